"""`GraphFusion`: ARGF's graph fusion network over three modality vectors."""

import itertools

import keras
from keras import ops

# Pairs of modality indices, in order: the bimodal nodes.
_PAIRS = ((0, 1), (0, 2), (1, 2))


@keras.saving.register_keras_serializable(package="msakeras")
class GraphFusion(keras.layers.Layer):
    """Graph fusion: unimodal, bimodal and trimodal nodes, one summary each.

    The graph fusion network (GFN) of ARGF (Mai, Hu, Xing, AAAI 2020),
    HyCon's "Graph Fusion [16]" variant (Table 4: "regards each unimodal,
    bimodal, and trimodal interaction as one node, and explicitly models
    their relationship in a parameter-friendly way"). Implemented after
    the authors' code (`TmacMai/ARGF_multimodal_fusion`,
    `ARGF_context2/model.py`, `graph11_new`), for three vectors
    `x_1, x_2, x_3` of one width `d`:

    1. Unimodal layer: a shared gate `s_m = sigmoid(w·x_m + b)`;
       `u = (Σ_m s_m x_m) / 3`.
    2. Bimodal layer: `p_m = softmax(x_m)` over features; for each pair
       `(i, j)` the edge score `σ_ij = (s_i + s_j) / (p_i·p_j + 0.5)`
       (modalities that agree less get more weight), `w = softmax_pairs(σ)`,
       node `b_ij = elu(w_ij · g([x_i; x_j]))` with a shared MLP
       `g = tanh ∘ Dense(d) ∘ leaky_relu(0.2) ∘ Dense(hidden_dim)`;
       `b = Σ b_ij`.
    3. Trimodal layer: with `q_ij = softmax(g([x_i; x_j]))`, six nodes:
       each pair of bimodal nodes `(P, Q)`, score
       `(σ_P + σ_Q) / (q_P·q_Q + 0.5)`, input `[b_P; b_Q]`; and each
       bimodal node with its missing modality `k`, score
       `(σ_P + s_k) / (q_P·p_k + 0.5)`, input `[b_P; x_k]`. The scores are
       softmax-normalised into `v`, nodes `t_n = elu(v_n · h(input_n))`
       with a second shared MLP `h` of the same form; `t = Σ t_n`.

    The output is `[u; b; t]`, width `3d`. DECISION: ARGF follows it with
    BatchNorm and a two-layer tanh classifier; here the model's own head
    reads it (HyCon's fusion variants differ only in the fusion).

    Args:
        hidden_dim: int. Hidden width of the two node MLPs. Defaults to
            `64` (ARGF).
        kernel_initializer: initializer of the dense kernels. Defaults to
            `"glorot_uniform"`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`,
            `dtype`).

    Call arguments:
        inputs: list of exactly three float `(batch, dim)` tensors of one
            width.

    Returns:
        float `(batch, 3 * dim)`.

    Example:

    ```python
    fused = msakeras.layers.GraphFusion()([text, audio, vision])  # 3 * d
    ```

    Reference:
        [Mai, Hu, Xing, 2020, "Modality to Modality Translation: An
        Adversarial Representation Learning and Graph Fusion Network for
        Multimodal Fusion", AAAI](https://arxiv.org/abs/1911.07848), code:
        https://github.com/TmacMai/ARGF_multimodal_fusion ; used by Mai et
        al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797, Table 4.
    """

    def __init__(
        self, hidden_dim=64, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        if not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(
                "`hidden_dim` must be a positive int. "
                f"Received: hidden_dim={hidden_dim!r}"
            )
        self.hidden_dim = hidden_dim
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.gate = keras.layers.Dense(
            1,
            activation="sigmoid",
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="gate",
        )
        self.pair_hidden = self._dense(hidden_dim, "pair_hidden")
        self.triple_hidden = self._dense(hidden_dim, "triple_hidden")

    def _dense(self, units, name, activation=None):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, inputs_shape):
        if (
            not isinstance(inputs_shape, (list, tuple))
            or len(inputs_shape) != 3
        ):
            raise ValueError(
                "GraphFusion takes a list of exactly 3 tensors. "
                f"Received shapes: {inputs_shape}"
            )
        widths = [shape[-1] for shape in inputs_shape]
        if len(set(widths)) != 1 or widths[0] is None:
            raise ValueError(
                f"GraphFusion needs inputs of one known width; received "
                f"widths {widths}."
            )
        width = widths[0]
        batch = inputs_shape[0][0]
        self.pair_output = self._dense(width, "pair_output", "tanh")
        self.triple_output = self._dense(width, "triple_output", "tanh")
        self.gate.build((batch, width))
        for hidden, output in (
            (self.pair_hidden, self.pair_output),
            (self.triple_hidden, self.triple_output),
        ):
            hidden.build((batch, 2 * width))
            output.build((batch, self.hidden_dim))

    def _node_mlp(self, hidden, output, first, second):
        features = ops.concatenate([first, second], axis=-1)
        return output(ops.leaky_relu(hidden(features), negative_slope=0.2))

    @staticmethod
    def _dot(first, second):
        return ops.sum(first * second, axis=-1, keepdims=True)

    def call(self, inputs):
        inputs = list(inputs)
        # Unimodal layer.
        gates = [self.gate(x) for x in inputs]  # each (batch, 1)
        unimodal = (
            gates[0] * inputs[0] + gates[1] * inputs[1] + gates[2] * inputs[2]
        ) / 3.0
        # Bimodal layer.
        distributions = [ops.softmax(x, axis=-1) for x in inputs]
        pair_scores = [
            (gates[i] + gates[j])
            / (self._dot(distributions[i], distributions[j]) + 0.5)
            for i, j in _PAIRS
        ]
        pair_weights = ops.softmax(
            ops.concatenate(pair_scores, axis=-1), axis=-1
        )
        pair_features = [
            self._node_mlp(
                self.pair_hidden, self.pair_output, inputs[i], inputs[j]
            )
            for i, j in _PAIRS
        ]
        pair_nodes = [
            ops.elu(pair_weights[:, n : n + 1] * pair_features[n])
            for n in range(len(_PAIRS))
        ]
        bimodal = pair_nodes[0] + pair_nodes[1] + pair_nodes[2]
        # Trimodal layer: pairs of bimodal nodes, then each bimodal node
        # with the modality it lacks.
        pair_distributions = [ops.softmax(h, axis=-1) for h in pair_features]
        triple_scores, triple_inputs = [], []
        for first, second in itertools.combinations(range(len(_PAIRS)), 2):
            triple_scores.append(
                (pair_scores[first] + pair_scores[second])
                / (
                    self._dot(
                        pair_distributions[first], pair_distributions[second]
                    )
                    + 0.5
                )
            )
            triple_inputs.append((pair_nodes[first], pair_nodes[second]))
        for n, (i, j) in enumerate(_PAIRS):
            missing = 3 - i - j
            triple_scores.append(
                (pair_scores[n] + gates[missing])
                / (
                    self._dot(pair_distributions[n], distributions[missing])
                    + 0.5
                )
            )
            triple_inputs.append((pair_nodes[n], inputs[missing]))
        triple_weights = ops.softmax(
            ops.concatenate(triple_scores, axis=-1), axis=-1
        )
        trimodal = None
        for n, (first, second) in enumerate(triple_inputs):
            node = ops.elu(
                triple_weights[:, n : n + 1]
                * self._node_mlp(
                    self.triple_hidden, self.triple_output, first, second
                )
            )
            trimodal = node if trimodal is None else trimodal + node
        return ops.concatenate([unimodal, bimodal, trimodal], axis=-1)

    def compute_output_shape(self, inputs_shape):
        width = inputs_shape[0][-1]
        return (inputs_shape[0][0], None if width is None else 3 * width)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }

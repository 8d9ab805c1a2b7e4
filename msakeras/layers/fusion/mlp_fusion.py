"""`MLPFusion`: concatenate modality vectors and pass them through an MLP."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class MLPFusion(keras.layers.Layer):
    """Late fusion by concatenation and a small MLP.

    Computes `Z = act(W_n ... act(W_1 · Dropout([h_1; ...; h_k])))`, the
    fusion network of MMIM (`SubNet`: dropout 0.1, two tanh layers of width
    128, `docs/models/mmim.md`) and of the Self-MM family.

    Args:
        hidden_dim: int. Width of every layer. Defaults to `128`.
        num_layers: int. Number of dense layers. Defaults to `2`.
        activation: str. Activation of every layer. Defaults to `"tanh"`.
        dropout: float. Dropout on the concatenated input. Defaults to `0.1`.
        kernel_initializer: str or initializer. Defaults to
            `"glorot_normal"` (Xavier-normal, as MMIM initialises).

    Call arguments:
        inputs: list of float `(batch, width_i)` tensors, concatenated in
            order (MMIM: text, audio, vision).
        training: bool, enables dropout.

    Returns:
        float `(batch, hidden_dim)`.

    Example:

    ```python
    fused = MLPFusion(hidden_dim=128)([text, audio, vision])
    ```

    Reference:
        Han et al., "Improving Multimodal Fusion with Hierarchical Mutual
        Information Maximization for Multimodal Sentiment Analysis",
        EMNLP 2021, https://arxiv.org/abs/2109.00412
    """

    def __init__(
        self,
        hidden_dim=128,
        num_layers=2,
        activation="tanh",
        dropout=0.1,
        kernel_initializer="glorot_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_dim <= 0:
            raise ValueError(
                f"`hidden_dim` must be positive; received {hidden_dim}."
            )
        if num_layers < 1:
            raise ValueError(
                f"`num_layers` must be at least 1; received {num_layers}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"`dropout` must be in [0, 1); received {dropout}."
            )
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.activation = activation
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="input_dropout"
        )
        self.dense_layers = [
            keras.layers.Dense(
                hidden_dim,
                activation=activation,
                kernel_initializer=self.kernel_initializer,
                dtype=self.dtype_policy,
                name=f"dense_{index}",
            )
            for index in range(num_layers)
        ]

    def build(self, inputs_shape):
        width = sum(shape[-1] for shape in inputs_shape)
        shape = (inputs_shape[0][0], width)
        for dense in self.dense_layers:
            dense.build(shape)
            shape = (shape[0], self.hidden_dim)
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.dropout_layer(
            ops.concatenate(list(inputs), axis=-1), training=training
        )
        for dense in self.dense_layers:
            hidden = dense(hidden)
        return hidden

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0][0], self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "activation": self.activation,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }

"""One direction of a BBFN / MCER gated cross-modal transformer layer."""

import keras
from keras import ops

from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class GatedCrossModalTransformerLayer(keras.layers.Layer):
    """Cross-modal attention whose residual and update are gated.

    The "current" modality `s` (query sequence `M_s`) attends to the
    "other" modality `m` (context `M_m`); two gates computed from the
    control vectors `x_s`, `x_m` (one per sample, broadcast over time)
    replace the residual addition (MCER eqs. 12–16, BBFN
    `docs/building_blocks.md`):

    - filter gate `g_f = σ(W_f [x_s; x_m] + b_f)` on the residual `M_s`;
    - complementary gate `g_c = σ(W_c [x_m; x_s] + b_c)` on the attention
      output (MCER's per-gate concatenation order; BBFN uses
      `[x_text; x_other]` for both);
    - pre-LN (default, BBFN's code, DECISION docs/models/mcer.md):
      `o = Dropout(MHA(LN(M_s), LN(M_m), LN(M_m)))` with one shared
      LayerNorm for query, key and value,
      `M̄ = g_f ⊙ M_s + g_c ⊙ o`,
      `out = M̄ + Dropout(W_2 Dropout(ReLU(W_1 LN(M̄))))`;
    - post-LN (`post_ln=True`, MCER eqs. 15–16 literally):
      `M̄ = LN(g_f ⊙ M_s + g_c ⊙ o)` with `o = Dropout(MHA(M_s, M_m, M_m))`,
      `out = LN(M̄ + FFN(M̄))`.

    Masks (BBFN `get_mask`, per-modality lengths for unaligned data):
    padded context steps are excluded from attention, and padded query
    steps of the output are set to zero, so padding never changes the
    valid outputs.

    Args:
        num_heads: int. Attention heads; must divide the query width.
        intermediate_dim: int or None. FFN width; `None` = 4 × width
            (BBFN). Defaults to `None`.
        dropout: float. Residual and FFN-activation dropout (BBFN res /
            relu dropout). Defaults to `0.1`.
        attention_dropout: float. Dropout on attention weights. Defaults
            to `0.1`.
        post_ln: bool. Post-LN arrangement of MCER eqs. 15–16. Defaults
            to `False`.
        layer_norm_epsilon: float. Defaults to `1e-5` (PyTorch).
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        query: float `(batch, query_steps, d)`. `M_s`.
        context: float `(batch, context_steps, d_m)`. `M_m`.
        query_control: float `(batch, c)`. `x_s`.
        context_control: float `(batch, c)`. `x_m`.
        query_mask: optional int `(batch, query_steps)`, 1 = valid.
        context_mask: optional int `(batch, context_steps)`, 1 = valid.

    Returns:
        float `(batch, query_steps, d)`.

    Example:

    ```python
    layer = msakeras.layers.GatedCrossModalTransformerLayer(num_heads=2)
    text = layer(text_sequence, audio_sequence, text_control,
                 audio_control, query_mask=text_mask,
                 context_mask=audio_mask)
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669), code:
        https://github.com/declare-lab/BBFN (`modules/transformer.py`);
        Zhao et al., "MCER", IJCNN 2024, eqs. 12–16.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim=None,
        dropout=0.1,
        attention_dropout=0.1,
        post_ln=False,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_heads, int) or num_heads < 1:
            raise ValueError(
                f"`num_heads` must be a positive int; received {num_heads!r}."
            )
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.post_ln = bool(post_ln)
        self.layer_norm_epsilon = layer_norm_epsilon

        def norm(name):
            return keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name=name
            )

        self.attention_norm = norm("attention_norm")
        self.feedforward_norm = norm("feedforward_norm")
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(
        self,
        query_shape,
        context_shape,
        query_control_shape,
        context_control_shape,
        query_mask_shape=None,
        context_mask_shape=None,
    ):
        width = query_shape[-1]
        if width is None or width % self.num_heads:
            raise ValueError(
                f"The query width ({width}) must be divisible by "
                f"`num_heads` ({self.num_heads})."
            )
        if query_control_shape[-1] != context_control_shape[-1]:
            raise ValueError(
                "`query_control` and `context_control` must have the same "
                f"width; received {query_control_shape} and "
                f"{context_control_shape}."
            )
        intermediate = self.intermediate_dim or 4 * width
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=width // self.num_heads,
            dropout=self.attention_dropout,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.filter_gate = keras.layers.Dense(
            width,
            activation="sigmoid",
            dtype=self.dtype_policy,
            name="filter_gate",
        )
        self.complementary_gate = keras.layers.Dense(
            width,
            activation="sigmoid",
            dtype=self.dtype_policy,
            name="complementary_gate",
        )
        self.feedforward_in = keras.layers.Dense(
            intermediate,
            activation="relu",
            dtype=self.dtype_policy,
            name="feedforward_in",
        )
        self.feedforward_out = keras.layers.Dense(
            width, dtype=self.dtype_policy, name="feedforward_out"
        )
        if not self.post_ln and context_shape[-1] != width:
            raise ValueError(
                "Pre-LN shares one LayerNorm for query and context, so "
                f"their widths must agree; received {width} and "
                f"{context_shape[-1]}."
            )
        self.attention.build(query_shape, context_shape)
        self.attention_norm.build(query_shape)
        self.feedforward_norm.build(query_shape)
        gate_shape = (
            query_control_shape[0],
            2 * query_control_shape[-1],
        )
        self.filter_gate.build(gate_shape)
        self.complementary_gate.build(gate_shape)
        self.feedforward_in.build(query_shape)
        self.feedforward_out.build(tuple(query_shape[:-1]) + (intermediate,))

    def call(
        self,
        query,
        context,
        query_control,
        context_control,
        query_mask=None,
        context_mask=None,
        training=None,
    ):
        attention_mask = None
        if context_mask is not None:  # (batch, ctx) -> (batch, query, ctx)
            attention_mask = sequence_ops.key_padding_attention_mask(
                query, context_mask
            )
        filter_gate = self.filter_gate(
            ops.concatenate([query_control, context_control], axis=-1)
        )[:, None, :]
        complementary_gate = self.complementary_gate(
            ops.concatenate([context_control, query_control], axis=-1)
        )[:, None, :]
        if self.post_ln:
            attended = self.attention(
                query=query,
                value=context,
                key=context,
                attention_mask=attention_mask,
                training=training,
            )
            attended = self.dropout_layer(attended, training=training)
            hidden = self.attention_norm(
                filter_gate * query + complementary_gate * attended
            )
            hidden = self.feedforward_norm(
                hidden + self._feedforward(hidden, training)
            )
        else:
            normed_query = self.attention_norm(query)
            normed_context = self.attention_norm(context)
            attended = self.attention(
                query=normed_query,
                value=normed_context,
                key=normed_context,
                attention_mask=attention_mask,
                training=training,
            )
            attended = self.dropout_layer(attended, training=training)
            hidden = filter_gate * query + complementary_gate * attended
            hidden = hidden + self._feedforward(
                self.feedforward_norm(hidden), training
            )
        return sequence_ops.zero_padded_steps(hidden, query_mask)

    def _feedforward(self, inputs, training):
        hidden = self.dropout_layer(
            self.feedforward_in(inputs), training=training
        )
        return self.dropout_layer(
            self.feedforward_out(hidden), training=training
        )

    def compute_output_shape(
        self,
        query_shape,
        context_shape,
        query_control_shape,
        context_control_shape,
        query_mask_shape=None,
        context_mask_shape=None,
    ):
        return tuple(query_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "post_ln": self.post_ln,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

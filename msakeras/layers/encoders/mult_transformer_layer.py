"""One pre-LN MulT transformer layer (self- or cross-modal attention)."""

import keras

from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class MulTTransformerLayer(explicit_mask_layer.ExplicitMaskLayer):
    """Pre-LN transformer layer of MulT: attention then a ReLU FFN.

    ```
    x = x + Dropout_res(MHA(LN_0(x), LN_0(c), LN_0(c)))   # c = x or context
    x = x + Dropout_res(W2 Dropout_relu(ReLU(W1 LN_1(x))))
    ```

    Self-attention when only `inputs` is given; with `context` the layer is
    MulT's cross-modal block (queries from `inputs`, keys and values from
    `context`, normalised by the same LayerNorm as the queries, as in the
    reference). `W1: d -> intermediate_dim`, `W2: intermediate_dim -> d`;
    all kernels Xavier-uniform, all biases zero; attention scales each head
    by `head_dim ** -0.5` and drops attention weights.

    Key padding: with `use_key_padding_mask=True` the keys at padded steps
    (`mask` for self-attention, `context_mask` for cross-attention) are
    masked out. The MulT/MIB/MCL code uses no key-padding mask (padded steps
    take part in attention); `use_key_padding_mask=False` reproduces that
    and ignores the masks. Outputs at padded query steps are computed but
    carry no meaning.

    Args:
        num_heads: int. Attention heads; must divide the input width.
        intermediate_dim: int or None. FFN width; `None` = 4 x the input
            width. Defaults to `None`.
        attention_dropout: float. Dropout on attention weights. Defaults to
            `0.0`.
        relu_dropout: float. Dropout after the FFN ReLU. Defaults to `0.0`.
        residual_dropout: float. Dropout on each sublayer's output before
            the residual add. Defaults to `0.0`.
        use_key_padding_mask: bool. Mask padded keys. Defaults to `True`.
        layer_norm_epsilon: float. LayerNorm epsilon (PyTorch's default).
            Defaults to `1e-5`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, hidden_dim)`, the queries.
        context: optional float `(batch, context_steps, hidden_dim)`, keys
            and values; `None` = self-attention.
        mask: optional int or bool `(batch, steps)`, 1 = valid step of
            `inputs`; the key mask for self-attention.
        context_mask: optional int or bool `(batch, context_steps)`, 1 =
            valid step of `context`; the key mask for cross-attention.
        training: bool. Whether dropout is active.

    Returns:
        float `(batch, steps, hidden_dim)`.

    Example:

    ```python
    text = np.random.rand(2, 5, 8).astype("float32")
    audio = np.random.rand(2, 6, 8).astype("float32")
    audio_mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")
    layer = msakeras.layers.MulTTransformerLayer(num_heads=2)
    text_to_audio = layer(text, context=audio, context_mask=audio_mask)
    ```

    Reference:
        [Tsai et al., 2019, MulT](https://arxiv.org/abs/1906.00295),
        code: https://github.com/yaohungt/Multimodal-Transformer
        (`modules/transformer.py`, `TransformerEncoderLayer`).
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim=None,
        attention_dropout=0.0,
        relu_dropout=0.0,
        residual_dropout=0.0,
        use_key_padding_mask=True,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_heads, int) or num_heads < 1:
            raise ValueError(
                "`num_heads` must be a positive int. "
                f"Received: num_heads={num_heads!r}"
            )
        if intermediate_dim is not None and (
            not isinstance(intermediate_dim, int) or intermediate_dim < 1
        ):
            raise ValueError(
                "`intermediate_dim` must be None or a positive int. "
                f"Received: intermediate_dim={intermediate_dim!r}"
            )
        for argument, value in (
            ("attention_dropout", attention_dropout),
            ("relu_dropout", relu_dropout),
            ("residual_dropout", residual_dropout),
        ):
            if not 0.0 <= value < 1.0:
                raise ValueError(
                    f"`{argument}` must be in [0, 1). "
                    f"Received: {argument}={value}"
                )
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.attention_dropout = attention_dropout
        self.relu_dropout = relu_dropout
        self.residual_dropout = residual_dropout
        self.use_key_padding_mask = bool(use_key_padding_mask)
        self.layer_norm_epsilon = layer_norm_epsilon

        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="attention_norm",
        )
        self.feedforward_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="feedforward_norm",
        )
        self.residual_dropout_layer = keras.layers.Dropout(
            residual_dropout,
            dtype=self.dtype_policy,
            name="residual_dropout",
        )
        self.relu_dropout_layer = keras.layers.Dropout(
            relu_dropout, dtype=self.dtype_policy, name="relu_dropout"
        )

    def build(self, inputs_shape, context_shape=None, context_mask_shape=None):
        hidden_dim = inputs_shape[-1]
        if hidden_dim is None or hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"The width of `inputs` ({hidden_dim}) must be divisible by "
                f"`num_heads` ({self.num_heads})."
            )
        if context_shape is not None and context_shape[-1] != hidden_dim:
            raise ValueError(
                f"The width of `context` ({context_shape[-1]}) must equal "
                f"the width of `inputs` ({hidden_dim}); project it first."
            )
        intermediate_dim = self.intermediate_dim or 4 * hidden_dim
        # Created here: key_dim and the FFN output width need the input.
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=hidden_dim // self.num_heads,
            dropout=self.attention_dropout,
            kernel_initializer="glorot_uniform",
            bias_initializer="zeros",
            dtype=self.dtype_policy,
            name="attention",
        )
        self.intermediate_dense = keras.layers.Dense(
            intermediate_dim,
            activation="relu",
            kernel_initializer="glorot_uniform",
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.output_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer="glorot_uniform",
            dtype=self.dtype_policy,
            name="output_dense",
        )
        context_shape = inputs_shape if context_shape is None else context_shape
        self.attention_norm.build(inputs_shape)
        self.attention.build(inputs_shape, context_shape, context_shape)
        self.residual_dropout_layer.build(inputs_shape)
        self.feedforward_norm.build(inputs_shape)
        self.intermediate_dense.build(inputs_shape)
        intermediate_shape = tuple(inputs_shape[:-1]) + (intermediate_dim,)
        self.relu_dropout_layer.build(intermediate_shape)
        self.output_dense.build(intermediate_shape)

    def call(
        self,
        inputs,
        context=None,
        mask=None,
        context_mask=None,
        training=None,
    ):
        self_attention = context is None
        if self_attention:
            context, context_mask = inputs, mask
        attention_mask = None
        if self.use_key_padding_mask and context_mask is not None:
            # (batch, context_steps) -> (batch, steps, context_steps)
            attention_mask = sequence_ops.key_padding_attention_mask(
                inputs, context_mask
            )
        query = self.attention_norm(inputs)
        # MulT normalises keys and values with the queries' LayerNorm.
        context = query if self_attention else self.attention_norm(context)
        attended = self.attention(
            query=query,
            value=context,
            key=context,
            attention_mask=attention_mask,
            training=training,
        )
        hidden = inputs + self.residual_dropout_layer(
            attended, training=training
        )
        feedforward = self.intermediate_dense(self.feedforward_norm(hidden))
        feedforward = self.output_dense(
            self.relu_dropout_layer(feedforward, training=training)
        )
        return hidden + self.residual_dropout_layer(
            feedforward, training=training
        )

    def compute_output_shape(
        self, inputs_shape, context_shape=None, context_mask_shape=None
    ):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "attention_dropout": self.attention_dropout,
            "relu_dropout": self.relu_dropout,
            "residual_dropout": self.residual_dropout,
            "use_key_padding_mask": self.use_key_padding_mask,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

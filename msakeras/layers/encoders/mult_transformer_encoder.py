"""MulT-style transformer encoder (sqrt(d) scaling, sinusoidal positions)."""

import math

import keras

from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sinusoidal_position_embedding
from msakeras.layers.encoders import mult_transformer_layer


@keras.saving.register_keras_serializable(package="msakeras")
class MulTTransformerEncoder(explicit_mask_layer.ExplicitMaskLayer):
    """MulT transformer encoder: scaled input + positions, L pre-LN layers.

    ```
    x = Dropout_embed(sqrt(d) * x + positions(x))
    x = MulTTransformerLayer(x[, context])   # num_layers times
    x = LayerNorm(x)
    ```

    Positions are fairseq sinusoids starting at 1, zero at padded steps
    (`SinusoidalPositionEmbedding`). With a `context` the encoder is MulT's
    cross-modal transformer: the context is scaled and gets positions the
    same way, then every layer attends from the running `inputs` to that
    fixed context. The input width must equal `hidden_dim`; project first
    (`Conv1DProjection`).

    Padding: the reference (MIB/MCL/MulT code) never masks keys and treats
    steps whose first channel is exactly 0 as padding for positions. Here
    the explicit masks decide by default; `use_key_padding_mask=False` and
    `first_channel_padding=True` reproduce the reference.

    Args:
        hidden_dim: int. Model width `d`; the input width must equal it.
        num_heads: int. Attention heads; must divide `hidden_dim`.
        num_layers: int. Number of `MulTTransformerLayer`s.
        attention_dropout: float. Dropout on attention weights. Defaults to
            `0.0`.
        relu_dropout: float. Dropout after the FFN ReLU. Defaults to `0.0`.
        residual_dropout: float. Dropout before each residual add. Defaults
            to `0.0`.
        embedding_dropout: float. Dropout on the scaled input plus
            positions. Defaults to `0.0`.
        use_key_padding_mask: bool. Mask padded keys in attention. Defaults
            to `True`.
        first_channel_padding: bool. Also treat steps whose first input
            channel is exactly 0 as padding for the positions (MulT rule).
            Defaults to `False`.
        intermediate_dim: int or None. FFN width; `None` = `4 * hidden_dim`.
            Defaults to `None`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, hidden_dim)`.
        mask: optional int or bool `(batch, steps)`, 1 = valid step.
        context: optional float `(batch, context_steps, hidden_dim)` for
            cross-modal attention; `None` = self-attention.
        context_mask: optional int or bool `(batch, context_steps)`.
        training: bool. Whether dropout is active.

    Returns:
        float `(batch, steps, hidden_dim)`; values at padded steps carry no
        meaning.

    Example:

    ```python
    audio = np.random.rand(2, 6, 8).astype("float32")
    audio_mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")
    encoder = msakeras.layers.MulTTransformerEncoder(
        hidden_dim=8, num_heads=2, num_layers=2)
    hidden = encoder(audio, mask=audio_mask)  # (2, 6, 8)
    ```

    Reference:
        [Tsai et al., 2019, MulT](https://arxiv.org/abs/1906.00295),
        code: https://github.com/yaohungt/Multimodal-Transformer
        (`modules/transformer.py`, `TransformerEncoder`).
    """

    def __init__(
        self,
        hidden_dim,
        num_heads,
        num_layers,
        attention_dropout=0.0,
        relu_dropout=0.0,
        residual_dropout=0.0,
        embedding_dropout=0.0,
        use_key_padding_mask=True,
        first_channel_padding=False,
        intermediate_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("hidden_dim", hidden_dim),
            ("num_heads", num_heads),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{argument}` must be a positive int. "
                    f"Received: {argument}={value!r}"
                )
        if hidden_dim % num_heads != 0:
            raise ValueError(
                f"`hidden_dim` ({hidden_dim}) must be divisible by "
                f"`num_heads` ({num_heads})."
            )
        if not 0.0 <= embedding_dropout < 1.0:
            raise ValueError(
                "`embedding_dropout` must be in [0, 1). "
                f"Received: embedding_dropout={embedding_dropout}"
            )
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.attention_dropout = attention_dropout
        self.relu_dropout = relu_dropout
        self.residual_dropout = residual_dropout
        self.embedding_dropout = embedding_dropout
        self.use_key_padding_mask = bool(use_key_padding_mask)
        self.first_channel_padding = bool(first_channel_padding)
        self.intermediate_dim = intermediate_dim

        self.position_embedding = (
            sinusoidal_position_embedding.SinusoidalPositionEmbedding(
                first_channel_padding=first_channel_padding,
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        )
        self.embedding_dropout_layer = keras.layers.Dropout(
            embedding_dropout,
            dtype=self.dtype_policy,
            name="embedding_dropout",
        )
        self.transformer_layers = [
            mult_transformer_layer.MulTTransformerLayer(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                attention_dropout=attention_dropout,
                relu_dropout=relu_dropout,
                residual_dropout=residual_dropout,
                use_key_padding_mask=use_key_padding_mask,
                dtype=self.dtype_policy,
                name=f"transformer_layer_{index}",
            )
            for index in range(num_layers)
        ]
        self.output_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=self.dtype_policy, name="output_norm"
        )

    def build(self, inputs_shape, context_shape=None, context_mask_shape=None):
        for argument, shape in (
            ("inputs", inputs_shape),
            ("context", context_shape),
        ):
            if shape is not None and shape[-1] != self.hidden_dim:
                raise ValueError(
                    f"The width of `{argument}` ({shape[-1]}) must equal "
                    f"`hidden_dim` ({self.hidden_dim}); project it first "
                    "(e.g. `Conv1DProjection`)."
                )
        self.position_embedding.build(inputs_shape)
        self.embedding_dropout_layer.build(inputs_shape)
        for layer in self.transformer_layers:
            layer.build(inputs_shape, context_shape)
        self.output_norm.build(inputs_shape)

    def _embed(self, inputs, mask, training):
        scaled = inputs * math.sqrt(self.hidden_dim)
        positions = self.position_embedding(inputs, mask=mask)
        return self.embedding_dropout_layer(
            scaled + positions, training=training
        )

    def call(
        self,
        inputs,
        mask=None,
        context=None,
        context_mask=None,
        training=None,
    ):
        hidden = self._embed(inputs, mask, training)
        if context is not None:
            context = self._embed(context, context_mask, training)
        for layer in self.transformer_layers:
            hidden = layer(
                hidden,
                context=context,
                mask=mask,
                context_mask=context_mask,
                training=training,
            )
        return self.output_norm(hidden)

    def compute_output_shape(
        self, inputs_shape, context_shape=None, context_mask_shape=None
    ):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "attention_dropout": self.attention_dropout,
            "relu_dropout": self.relu_dropout,
            "residual_dropout": self.residual_dropout,
            "embedding_dropout": self.embedding_dropout,
            "use_key_padding_mask": self.use_key_padding_mask,
            "first_channel_padding": self.first_channel_padding,
            "intermediate_dim": self.intermediate_dim,
        }

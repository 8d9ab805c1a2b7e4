"""`HierarchicalBottleneckFusion`: DashFusion's HBF (eqs. 6-9)."""

import keras
from keras import ops

# Logit of a masked key; its softmax weight is exactly 0 in float32.
_MASKED_LOGIT = -1e9
# PyTorch's LayerNorm epsilon (Keras defaults to 1e-3).
_LAYER_NORM_EPSILON = 1e-5


def masked_attention(query, key, value, num_heads, scale, key_mask=None):
    """Multi-head scaled dot-product attention on projected inputs.

    No projections and no output projection: `query` `(batch, q, width)`,
    `key` and `value` `(batch, k, width)` are split into `num_heads` heads,
    `softmax(scale · q kᵀ) v` is computed per head and the heads are
    concatenated back to `(batch, q, width)`. Keys where `key_mask` is 0
    get zero weight; a row whose keys are all masked attends uniformly
    (finite, never NaN).

    Args:
        query: float `(batch, query_steps, width)`.
        key: float `(batch, key_steps, width)`.
        value: float `(batch, key_steps, value_width)`.
        num_heads: int. Must divide both widths.
        scale: float. Multiplies the logits.
        key_mask: optional int/bool `(batch, key_steps)`, 1 = valid.

    Returns:
        float `(batch, query_steps, value_width)`.
    """

    def split_heads(tensor):
        shape = ops.shape(tensor)
        tensor = ops.reshape(
            tensor,
            (shape[0], shape[1], num_heads, tensor.shape[-1] // num_heads),
        )
        return ops.transpose(tensor, (0, 2, 1, 3))

    queries, keys, values = (
        split_heads(query),
        split_heads(key),
        split_heads(value),
    )
    logits = ops.matmul(queries, ops.transpose(keys, (0, 1, 3, 2))) * scale
    if key_mask is not None:
        valid = ops.cast(key_mask, "bool")[:, None, None, :]
        logits = ops.where(valid, logits, ops.cast(_MASKED_LOGIT, logits.dtype))
    weights = ops.softmax(logits, axis=-1)
    attended = ops.matmul(weights, values)
    attended = ops.transpose(attended, (0, 2, 1, 3))
    shape = ops.shape(attended)
    return ops.reshape(attended, (shape[0], shape[1], value.shape[-1]))


class _FeedForward(keras.layers.Layer):
    """`Dropout(Dense_out(Dropout(GELU(Dense_inner(x)))))`, official FFN."""

    def __init__(self, intermediate_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.intermediate_dense = keras.layers.Dense(
            intermediate_dim,
            activation="gelu",
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.intermediate_dropout = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="intermediate_dropout"
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="output_dropout"
        )

    def build(self, inputs_shape):
        self.output_dense = keras.layers.Dense(
            inputs_shape[-1], dtype=self.dtype_policy, name="output_dense"
        )
        self.intermediate_dense.build(inputs_shape)
        self.output_dense.build(
            tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        )
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.intermediate_dense(inputs)
        hidden = self.intermediate_dropout(hidden, training=training)
        hidden = self.output_dense(hidden)
        return self.output_dropout(hidden, training=training)


class _PostNormBlock(keras.layers.Layer):
    """Sublayers shared by both attention blocks: output norms and FFN."""

    def __init__(self, num_heads, intermediate_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=_LAYER_NORM_EPSILON,
            dtype=self.dtype_policy,
            name="attention_norm",
        )
        self.feedforward = _FeedForward(
            intermediate_dim,
            dropout,
            dtype=self.dtype_policy,
            name="feedforward",
        )
        self.feedforward_norm = keras.layers.LayerNormalization(
            epsilon=_LAYER_NORM_EPSILON,
            dtype=self.dtype_policy,
            name="feedforward_norm",
        )


class _PostNormAttentionBlock(_PostNormBlock):
    """Official `TransformerEncoder`/`CrossTransformerEncoder` (depth 1).

    `x ← x + LN(Attn(x, s, s))`, `x ← x + LN(FFN(x))`: LayerNorm on the
    sub-layer output, then the residual. `Attn` has biased q/k/v
    projections, logits scaled by `width^-1/2` (the model width, not the
    head width, as the official `Attention`) and no output projection.
    """

    def build(self, target_shape, source_shape, source_mask_shape=None):
        width = target_shape[-1]
        for name in ("query", "key", "value"):
            setattr(
                self,
                f"{name}_dense",
                keras.layers.Dense(
                    width, dtype=self.dtype_policy, name=f"{name}_dense"
                ),
            )
        self.query_dense.build(target_shape)
        self.key_dense.build(source_shape)
        self.value_dense.build(source_shape)
        self.attention_norm.build(target_shape)
        self.feedforward.build(target_shape)
        self.feedforward_norm.build(target_shape)
        self.built = True

    def call(self, target, source, source_mask=None, training=None):
        width = target.shape[-1]
        attended = masked_attention(
            self.query_dense(target),
            self.key_dense(source),
            self.value_dense(source),
            self.num_heads,
            width**-0.5,
            key_mask=source_mask,
        )
        target = target + self.attention_norm(attended)
        return target + self.feedforward_norm(
            self.feedforward(target, training=training)
        )


class _MultiCrossAttention(_PostNormBlock):
    """Official `Multi_CA`: the bottleneck gathers from three modalities.

    `U = LN1(B + CA(B, X_t) + CA(B, X_a) + CA(B, X_v))`,
    `out = LN2(U + FFN(U))`; one query projection shared by the three
    cross-attentions, separate key/value projections, none with bias, no
    output projection, logits scaled by `head_width^-1/2`. (Paper eqs. 7-8
    add `B` twice; the official code adds it once, as here.)
    """

    def build(
        self,
        bottleneck_shape,
        text_shape,
        audio_shape,
        vision_shape,
        text_mask_shape=None,
        audio_mask_shape=None,
        vision_mask_shape=None,
    ):
        width = bottleneck_shape[-1]

        def dense(name):
            return keras.layers.Dense(
                width, use_bias=False, dtype=self.dtype_policy, name=name
            )

        self.query_dense = dense("query_dense")
        self.query_dense.build(bottleneck_shape)
        for modality, shape in (
            ("text", text_shape),
            ("audio", audio_shape),
            ("vision", vision_shape),
        ):
            for kind in ("key", "value"):
                layer = dense(f"{modality}_{kind}_dense")
                layer.build(shape)
                setattr(self, f"{modality}_{kind}_dense", layer)
        self.attention_norm.build(bottleneck_shape)
        self.feedforward.build(bottleneck_shape)
        self.feedforward_norm.build(bottleneck_shape)
        self.built = True

    def call(
        self,
        bottleneck,
        text,
        audio,
        vision,
        text_mask=None,
        audio_mask=None,
        vision_mask=None,
        training=None,
    ):
        scale = (bottleneck.shape[-1] // self.num_heads) ** -0.5
        query = self.query_dense(bottleneck)
        gathered = bottleneck
        for modality, sequence, mask in (
            ("text", text, text_mask),
            ("audio", audio, audio_mask),
            ("vision", vision, vision_mask),
        ):
            gathered = gathered + masked_attention(
                query,
                getattr(self, f"{modality}_key_dense")(sequence),
                getattr(self, f"{modality}_value_dense")(sequence),
                self.num_heads,
                scale,
                key_mask=mask,
            )
        hidden = self.attention_norm(gathered)
        return self.feedforward_norm(
            hidden + self.feedforward(hidden, training=training)
        )


@keras.saving.register_keras_serializable(package="msakeras")
class HierarchicalBottleneckFusion(keras.layers.Layer):
    """Hierarchical bottleneck fusion (HBF) of DashFusion.

    A few bottleneck tokens carry information between the modalities, and
    their number halves at every layer (`p_1 = num_bottleneck_tokens`,
    `p_{l+1} = max(1, p_l // 2)`: 8, 4, 2, ...), compressing the fused
    information. Layer `l` (paper eqs. 6-9, official
    `layers.py::HierarchicalBottleneckFusion`):

    1. eq. 6: `B_l = SelfBlock_l(Q)[:, :p_l]`, with `Q = H` (the aligned
       sequence) at `l = 1` and `Q = B_{l-1}` after. If the sequence is
       shorter than `p_l`, the slice keeps all of it.
    2. eqs. 7-8: `B_l ← MultiCA_l(B_l, X_t, X_a, X_v)` (the bottleneck
       queries all three modality sequences; `B` added once, as the
       official code).
    3. eq. 9: `X_m ← CrossBlock_{m,l}(X_m, B_l)` for `m ∈ {t, a, v}`.

    Output: `[B_D[:, 0]; X_t[:, 0]; X_v[:, 0]; X_a[:, 0]]`, `4 · width`
    wide (the official concatenation order).

    Blocks follow the official code, not the paper's eq. 1: LayerNorm on
    each sub-layer output before the residual (`x + LN(Attn(x))`), biased
    q/k/v projections and logits scaled by `width^-1/2` in the self/cross
    blocks, no output projections, FFN `Dense(intermediate) → GELU →
    Dense(width)`, LayerNorm epsilon 1e-5 (PyTorch's).

    Masks: the official attention takes none; calling without masks
    reproduces it (`DashFusionModel`'s default). Given masks, padded keys
    are masked wherever a modality sequence or `H` is attended (the self
    block on `H` and the Multi-CA keys), so padded steps never change the
    output. Bottleneck tokens are always valid keys.

    Args:
        num_layers: int. Depth `D`: 2 (MOSI, SIMS) or 3 (MOSEI). Defaults
            to `2`.
        num_bottleneck_tokens: int. `p`, the first layer's token count.
            Defaults to `8` (the paper's best).
        num_heads: int. Attention heads; must divide the width. Defaults
            to `8`.
        intermediate_dim: int. FFN hidden width. Defaults to `256`.
        dropout: float. Dropout in the FFNs. Defaults to `0.0` (official).

    Call arguments:
        aligned: float `(batch, text_steps, width)`. `H`, the temporally
            aligned sequence on the text time axis.
        text: float `(batch, text_steps, width)`. `X_t`.
        audio: float `(batch, audio_steps, width)`. `X_a`.
        vision: float `(batch, vision_steps, width)`. `X_v`.
        text_mask, audio_mask, vision_mask: optional int/bool
            `(batch, steps)`, 1 = valid (right-padded). `text_mask` also
            masks `H`'s keys.
        return_bottlenecks: bool. Also return the list of bottleneck
            tensors `[B_1, ..., B_D]`, `B_l` `(batch, min(p_l, ...), width)`.
        training: bool. Dropout switch.

    Returns:
        float `(batch, 4 · width)`, or `(fused, bottlenecks)` with
        `return_bottlenecks=True`.

    Example:

    ```python
    fusion = HierarchicalBottleneckFusion(num_layers=2)
    fused = fusion(aligned, text, audio, vision, text_mask=text_mask,
                   audio_mask=audio_mask, vision_mask=vision_mask)
    ```

    Reference:
        Wen et al., "DashFusion: Dual-stream Alignment with Hierarchical
        Bottleneck Fusion for Multimodal Sentiment Analysis", IEEE TNNLS
        2025, §III.E, https://github.com/ultramarineX/DashFusion
    """

    def __init__(
        self,
        num_layers=2,
        num_bottleneck_tokens=8,
        num_heads=8,
        intermediate_dim=256,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 1 or num_bottleneck_tokens < 1:
            raise ValueError(
                "`num_layers` and `num_bottleneck_tokens` must be >= 1; "
                f"received {num_layers} and {num_bottleneck_tokens}."
            )
        self.num_layers = num_layers
        self.num_bottleneck_tokens = num_bottleneck_tokens
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.self_blocks = []
        self.multi_cross_attentions = []
        self.cross_blocks = {"text": [], "audio": [], "vision": []}
        for level in range(num_layers):
            self.self_blocks.append(
                _PostNormAttentionBlock(
                    num_heads,
                    intermediate_dim,
                    dropout,
                    dtype=self.dtype_policy,
                    name=f"self_block_{level}",
                )
            )
            self.multi_cross_attentions.append(
                _MultiCrossAttention(
                    num_heads,
                    intermediate_dim,
                    dropout,
                    dtype=self.dtype_policy,
                    name=f"multi_cross_attention_{level}",
                )
            )
            for modality in ("text", "audio", "vision"):
                self.cross_blocks[modality].append(
                    _PostNormAttentionBlock(
                        num_heads,
                        intermediate_dim,
                        dropout,
                        dtype=self.dtype_policy,
                        name=f"{modality}_cross_block_{level}",
                    )
                )

    @property
    def bottleneck_sizes(self):
        """Bottleneck token counts per layer, `[p, p // 2, ...]` (min 1)."""
        sizes = [self.num_bottleneck_tokens]
        for _ in range(self.num_layers - 1):
            sizes.append(max(1, sizes[-1] // 2))
        return sizes

    def build(
        self,
        aligned_shape,
        text_shape,
        audio_shape,
        vision_shape,
        text_mask_shape=None,
        audio_mask_shape=None,
        vision_mask_shape=None,
    ):
        widths = [
            aligned_shape[-1],
            text_shape[-1],
            audio_shape[-1],
            vision_shape[-1],
        ]
        if len(set(widths)) != 1:
            raise ValueError(
                "`aligned`, `text`, `audio` and `vision` must have the same "
                f"width; received {widths}."
            )
        width = widths[0]
        if width % self.num_heads != 0:
            raise ValueError(
                f"The width ({width}) must be divisible by `num_heads` "
                f"({self.num_heads})."
            )
        batch = aligned_shape[0]
        for level, size in enumerate(self.bottleneck_sizes):
            query_shape = (
                aligned_shape if level == 0 else (batch, size * 2, width)
            )
            bottleneck_shape = (batch, size, width)
            self.self_blocks[level].build(query_shape, query_shape)
            self.multi_cross_attentions[level].build(
                bottleneck_shape, text_shape, audio_shape, vision_shape
            )
            for modality, shape in (
                ("text", text_shape),
                ("audio", audio_shape),
                ("vision", vision_shape),
            ):
                self.cross_blocks[modality][level].build(
                    shape, bottleneck_shape
                )
        self.built = True

    def call(
        self,
        aligned,
        text,
        audio,
        vision,
        text_mask=None,
        audio_mask=None,
        vision_mask=None,
        return_bottlenecks=False,
        training=None,
    ):
        sequences = {"text": text, "audio": audio, "vision": vision}
        query, query_mask = aligned, text_mask
        bottlenecks = []
        for level, size in enumerate(self.bottleneck_sizes):
            query = self.self_blocks[level](
                query, query, source_mask=query_mask, training=training
            )
            bottleneck = query[:, :size, :]  # eq. 6
            bottleneck = self.multi_cross_attentions[level](
                bottleneck,
                sequences["text"],
                sequences["audio"],
                sequences["vision"],
                text_mask=text_mask,
                audio_mask=audio_mask,
                vision_mask=vision_mask,
                training=training,
            )  # eqs. 7-8
            for modality in ("text", "audio", "vision"):  # eq. 9
                sequences[modality] = self.cross_blocks[modality][level](
                    sequences[modality], bottleneck, training=training
                )
            bottlenecks.append(bottleneck)
            query, query_mask = bottleneck, None
        fused = ops.concatenate(
            [
                bottleneck[:, 0, :],
                sequences["text"][:, 0, :],
                sequences["vision"][:, 0, :],
                sequences["audio"][:, 0, :],
            ],
            axis=-1,
        )
        if return_bottlenecks:
            return fused, bottlenecks
        return fused

    def compute_output_shape(
        self,
        aligned_shape,
        text_shape,
        audio_shape,
        vision_shape,
        text_mask_shape=None,
        audio_mask_shape=None,
        vision_mask_shape=None,
    ):
        return (aligned_shape[0], 4 * aligned_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_layers": self.num_layers,
            "num_bottleneck_tokens": self.num_bottleneck_tokens,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
        }

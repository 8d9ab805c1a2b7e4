"""DashFusion-specific layers and its structured contrastive objective."""

import keras
import keras_hub
from keras import ops

from msakeras.layers.fusion import hierarchical_bottleneck_fusion as hbf
from msakeras.losses.nt_xent import masked_nt_xent
from msakeras.losses.supervised_contrastive import label_classes

# PyTorch's LayerNorm epsilon (Keras defaults to 1e-3).
_LAYER_NORM_EPSILON = 1e-5
# Representation types of the contrastive objective, in the official order.
CONTRASTIVE_TYPES = ("text", "vision", "audio", "aligned")


@keras.saving.register_keras_serializable(package="msakeras")
class DashFusionTextProjector(keras.layers.Layer):
    """Projects BERT token states to the model width
    (`docs/models/dashfusion.md`).

    `Dense(no bias) → GELU → Dense(no bias) → GELU → LayerNorm`, then
    padded tokens are zeroed. (The official projector builds a dropout but
    discards its output, so there is none here.)

    Args:
        hidden_dim: int. Output width `d`. Defaults to `128`.

    Call arguments:
        inputs: float `(batch, steps, bert_dim)`, BERT's last hidden states.
        mask: int/bool `(batch, steps)`, 1 = real token.

    Returns:
        float `(batch, steps, hidden_dim)`, zero at padded tokens.
    """

    def __init__(self, hidden_dim=128, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.first_dense = keras.layers.Dense(
            hidden_dim,
            use_bias=False,
            activation="gelu",
            dtype=self.dtype_policy,
            name="first_dense",
        )
        self.second_dense = keras.layers.Dense(
            hidden_dim,
            use_bias=False,
            activation="gelu",
            dtype=self.dtype_policy,
            name="second_dense",
        )
        self.norm = keras.layers.LayerNormalization(
            epsilon=_LAYER_NORM_EPSILON, dtype=self.dtype_policy, name="norm"
        )

    def build(self, inputs_shape, mask_shape=None):
        hidden_shape = tuple(inputs_shape[:-1]) + (self.hidden_dim,)
        self.first_dense.build(inputs_shape)
        self.second_dense.build(hidden_shape)
        self.norm.build(hidden_shape)
        self.built = True

    def call(self, inputs, mask=None):
        hidden = self.norm(self.second_dense(self.first_dense(inputs)))
        if mask is not None:
            hidden = hidden * ops.cast(mask, hidden.dtype)[:, :, None]
        return hidden

    def compute_output_shape(self, inputs_shape, mask_shape=None):
        return tuple(inputs_shape[:-1]) + (self.hidden_dim,)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}


@keras.saving.register_keras_serializable(package="msakeras")
class DashFusionSequenceEncoder(keras.layers.Layer):
    """DashFusion's audio/vision encoder (`docs/models/dashfusion.md`).

    `Dense(d)`; a learned `[CLS]` vector (initialised to ones) is prepended;
    a learned position table (initialised to zeros) is added; dropout; then
    `num_layers` post-LN transformer layers (8 heads, FFN 256, GELU, dropout
    0.5, key padding mask); LayerNorm; padded positions zeroed. The `[CLS]`
    slot is always valid, so the returned mask is `[1, mask]`.

    The official README corrects the paper's layer counts: 2 layers for
    MOSI/SIMS and 4 for MOSEI. The position table has `max_length + 1`
    rows and the first `steps + 1` are used, identical to the official
    `T + 1` table when `max_length = T`. GAP: keras-hub's
    `TransformerEncoder` has no dropout between its two FFN layers, which
    PyTorch's `TransformerEncoderLayer` has. DECISION: masks come from the
    true lengths (frame 0 is not forced valid as the official
    sum-of-features mask does; the `[CLS]` slot keeps every row finite).

    Args:
        hidden_dim: int. Width `d`. Defaults to `128`.
        num_layers: int. Transformer layers. Defaults to `2`.
        num_heads: int. Defaults to `8`.
        intermediate_dim: int. FFN width. Defaults to `256`.
        dropout: float. Transformer dropout. Defaults to `0.5` (official).
        position_dropout: float. Dropout after the position table.
            Defaults to `0.1`.
        max_length: int. Longest supported sequence. Defaults to `500`.

    Call arguments:
        inputs: float `(batch, steps, features)`.
        mask: int/bool `(batch, steps)`, 1 = valid, right-padded.

    Returns:
        dict: `sequence` `(batch, steps + 1, hidden_dim)` (zero at padded
        steps) and `mask` int32 `(batch, steps + 1)`.
    """

    def __init__(
        self,
        hidden_dim=128,
        num_layers=2,
        num_heads=8,
        intermediate_dim=256,
        dropout=0.5,
        position_dropout=0.1,
        max_length=500,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.position_dropout = position_dropout
        self.max_length = max_length
        self.input_dense = keras.layers.Dense(
            hidden_dim, dtype=self.dtype_policy, name="input_dense"
        )
        self.position_dropout_layer = keras.layers.Dropout(
            position_dropout, dtype=self.dtype_policy, name="position_dropout"
        )
        self.transformer_layers = [
            keras_hub.layers.TransformerEncoder(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation="gelu",
                layer_norm_epsilon=_LAYER_NORM_EPSILON,
                normalize_first=False,
                dtype=self.dtype_policy,
                name=f"transformer_layer_{index}",
            )
            for index in range(num_layers)
        ]
        self.output_norm = keras.layers.LayerNormalization(
            epsilon=_LAYER_NORM_EPSILON,
            dtype=self.dtype_policy,
            name="output_norm",
        )

    def build(self, inputs_shape, mask_shape=None):
        steps = inputs_shape[1]
        if steps is not None and steps > self.max_length:
            raise ValueError(
                f"Sequences of {steps} steps exceed `max_length` "
                f"({self.max_length})."
            )
        self.input_dense.build(inputs_shape)
        self.cls_token = self.add_weight(
            shape=(self.hidden_dim,), initializer="ones", name="cls_token"
        )
        self.position_embeddings = self.add_weight(
            shape=(self.max_length + 1, self.hidden_dim),
            initializer="zeros",
            name="position_embeddings",
        )
        hidden_shape = (inputs_shape[0], None, self.hidden_dim)
        for layer in self.transformer_layers:
            layer.build(hidden_shape)
        self.output_norm.build(hidden_shape)
        self.built = True

    def call(self, inputs, mask, training=None):
        hidden = self.input_dense(inputs)
        cls = ops.zeros_like(hidden[:, :1, :]) + ops.cast(
            self.cls_token, hidden.dtype
        )
        hidden = ops.concatenate([cls, hidden], axis=1)
        steps = ops.shape(hidden)[1]
        # A tensor, not the variable: JAX refuses a Keras variable in `slice`.
        positions = ops.slice(
            ops.convert_to_tensor(self.position_embeddings),
            (0, 0),
            (steps, self.hidden_dim),
        )
        hidden = hidden + ops.cast(positions, hidden.dtype)[None]
        hidden = self.position_dropout_layer(hidden, training=training)
        mask = ops.cast(mask, "int32")
        mask = ops.concatenate([ops.ones_like(mask[:, :1]), mask], axis=1)
        for layer in self.transformer_layers:
            hidden = layer(hidden, padding_mask=mask, training=training)
        hidden = self.output_norm(hidden)
        hidden = hidden * ops.cast(mask, hidden.dtype)[:, :, None]
        return {"sequence": hidden, "mask": mask}

    def compute_output_shape(self, inputs_shape, mask_shape=None):
        steps = None if inputs_shape[1] is None else inputs_shape[1] + 1
        return {
            "sequence": (inputs_shape[0], steps, self.hidden_dim),
            "mask": (inputs_shape[0], steps),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "position_dropout": self.position_dropout,
            "max_length": self.max_length,
        }


@keras.saving.register_keras_serializable(package="msakeras")
class TemporalAlignment(keras.layers.Layer):
    """Text-queried cross-attention of audio and vision (paper eq. 4).

    `H = X_t + Dropout(W_o (CA(X_t, X_a) + CA(X_t, X_v)))`: one query
    projection of the text shared by both cross-attentions, separate
    key/value projections for audio and vision (all `d → heads·head_dim`,
    no bias), per-head scale `head_dim^-1/2`, one biased output projection
    of the summed heads (official `layers.py::TemporalAlignment`). `H` lies
    on the text time axis.

    The official code applies no key mask here (padded frames, zero
    vectors, get logit 0 and dilute the softmax); without
    `audio_mask`/`vision_mask` this layer does the same (the model's
    default, `mask_attention=False`). Pass them to mask padded keys.

    Args:
        num_heads: int. Defaults to `8`.
        head_dim: int. Defaults to `32` (inner width 256).
        dropout: float. Dropout on the output projection. Defaults to `0.0`.

    Call arguments:
        text: float `(batch, text_steps, d)`. Queries.
        audio: float `(batch, audio_steps, d)`.
        vision: float `(batch, vision_steps, d)`.
        audio_mask, vision_mask: optional int/bool `(batch, steps)`.

    Returns:
        float `(batch, text_steps, d)`.
    """

    def __init__(self, num_heads=8, head_dim=32, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.dropout = dropout
        inner_dim = num_heads * head_dim
        for name in (
            "query",
            "audio_key",
            "audio_value",
            "vision_key",
            "vision_value",
        ):
            setattr(
                self,
                f"{name}_dense",
                keras.layers.Dense(
                    inner_dim,
                    use_bias=False,
                    dtype=self.dtype_policy,
                    name=f"{name}_dense",
                ),
            )
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(
        self,
        text_shape,
        audio_shape,
        vision_shape,
        audio_mask_shape=None,
        vision_mask_shape=None,
    ):
        self.output_dense = keras.layers.Dense(
            text_shape[-1], dtype=self.dtype_policy, name="output_dense"
        )
        self.query_dense.build(text_shape)
        self.audio_key_dense.build(audio_shape)
        self.audio_value_dense.build(audio_shape)
        self.vision_key_dense.build(vision_shape)
        self.vision_value_dense.build(vision_shape)
        self.output_dense.build(
            tuple(text_shape[:-1]) + (self.num_heads * self.head_dim,)
        )
        self.built = True

    def call(
        self,
        text,
        audio,
        vision,
        audio_mask=None,
        vision_mask=None,
        training=None,
    ):
        query = self.query_dense(text)
        scale = self.head_dim**-0.5
        from_audio = hbf.masked_attention(
            query,
            self.audio_key_dense(audio),
            self.audio_value_dense(audio),
            self.num_heads,
            scale,
            key_mask=audio_mask,
        )
        from_vision = hbf.masked_attention(
            query,
            self.vision_key_dense(vision),
            self.vision_value_dense(vision),
            self.num_heads,
            scale,
            key_mask=vision_mask,
        )
        update = self.output_dense(from_audio + from_vision)
        return text + self.dropout_layer(update, training=training)

    def compute_output_shape(
        self,
        text_shape,
        audio_shape,
        vision_shape,
        audio_mask_shape=None,
        vision_mask_shape=None,
    ):
        return text_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "head_dim": self.head_dim,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="msakeras")
class FirstToken(keras.layers.Layer):
    """`inputs[:, 0]`: the first (`[CLS]`) step of a sequence."""

    def call(self, inputs):
        return inputs[:, 0, :]

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1])


def contrastive_pair_masks(
    num_rows, num_anchors, partners_per_role=0, classes=None
):
    """Positive and negative pair masks of DashFusion's contrastive loss.

    Rows of the stacked embedding matrix are `type × batch_row`, types in
    `CONTRASTIVE_TYPES` order (text, vision, audio, aligned `h_f`), so the
    matrices are `(4 · num_rows, 4 · num_rows)`.

    Sampler layout (`partners_per_role = k > 0`, `docs/models/dashfusion.md`):
    the batch
    rows are role-major, `[anchors; ss_1..ss_k; dd_1..dd_k; sd_1..sd_k]`,
    each block `num_anchors` rows, as `ContrastivePairSampler` serves them.
    Positives: `(text_r, vision_r)` and `(text_r, audio_r)` for every row
    (semantic alignment), and `(m_a, m_s)` for each anchor `a`, its `ss`
    partners `s` and each type `m` (supervised). Negatives: `(m_a, m_n)`
    for each anchor, its `dd`/`sd` partners `n`, same type. With `k = 2`
    each anchor has the official 22 positive and 16 negative pairs.

    In-batch layout (`k = 0`, `classes` given): every row is an anchor;
    supervised positives are same-type rows of the same class, negatives
    same-type rows of another class (GAP: the official code always uses
    the sampler; this is the fallback for plain `fit` data).

    Returns:
        `(semantic_positive, supervised_positive, negative)` bool tensors.
    """
    # The (type, row) index grids, type-major, by cumulative sums: `repeat`
    # and `arange` of the batch-dependent `num_rows` break a
    # `torch.compile`d step (data-dependent `repeat_interleave`; dynamo
    # cannot trace `arange` of a symbolic size).
    ones = ops.ones((len(CONTRASTIVE_TYPES), num_rows), dtype="int32")
    types = ops.reshape(ops.cumsum(ones, axis=0) - 1, (-1,))
    rows = ops.reshape(ops.cumsum(ones, axis=1) - 1, (-1,))
    same_row = ops.equal(rows[:, None], rows[None, :])
    same_type = ops.equal(types[:, None], types[None, :])
    text_anchor = ops.equal(types, 0)[:, None]
    audio_or_vision = ops.logical_or(ops.equal(types, 1), ops.equal(types, 2))[
        None, :
    ]
    semantic = ops.logical_and(
        ops.logical_and(text_anchor, audio_or_vision), same_row
    )
    if partners_per_role > 0:
        roles = rows // num_anchors
        owners = rows % num_anchors
        is_anchor = ops.equal(roles, 0)[:, None]
        grouped = ops.logical_and(
            ops.logical_and(same_type, is_anchor),
            ops.equal(owners[:, None], owners[None, :]),
        )
        partner_roles = roles[None, :]
        similar = ops.logical_and(
            partner_roles >= 1, partner_roles <= partners_per_role
        )
        supervised = ops.logical_and(grouped, similar)
        negative = ops.logical_and(grouped, partner_roles > partners_per_role)
    else:
        classes = ops.tile(
            ops.reshape(classes, (-1,)), (len(CONTRASTIVE_TYPES),)
        )
        same_class = ops.equal(classes[:, None], classes[None, :])
        supervised = ops.logical_and(
            ops.logical_and(same_type, same_class), ops.logical_not(same_row)
        )
        negative = ops.logical_and(same_type, ops.logical_not(same_class))
    return semantic, supervised, negative


def dashfusion_contrastive_loss(
    embeddings,
    labels=None,
    partners_per_role=0,
    temperature=0.5,
    round_labels=True,
    semantic_alignment=True,
    supervised_contrastive=True,
):
    """DashFusion's unified contrastive loss `L_con` (eqs. 5, 11).

    Semantic alignment (text ↔ audio, text ↔ vision of the same clip) and
    supervised contrastive learning (same-class partners as positives,
    different-class hard negatives) in one NT-Xent
    (`msakeras.losses.masked_nt_xent`, pytorch-metric-learning's
    denominator: the pair's positive plus its anchor's negatives), averaged
    over all positive pairs. With the sampler layout each sample has the
    same 22 pairs, so this is the official `mean_i mean_pairs ℓ`
    (`docs/models/dashfusion.md`), pairs whose anchor has no negatives counting
    as 0.

    Args:
        embeddings: dict with `text`, `vision`, `audio` (global vectors
            `x̄_m`) and `aligned` (`h_f = H[:, 0]`), each
            `(num_rows, d)`.
        labels: float `(num_anchors,)` or `(num_anchors, 1)`. Needed for
            the row count and, in-batch, for the classes.
        partners_per_role: int. `k` of the sampler layout; 0 = in-batch.
        temperature: float. τ. Defaults to `0.5`.
        round_labels: bool. Classes are `round(y)` (MOSI/MOSEI) or exact
            labels (SIMS); in-batch only.
        semantic_alignment: bool. Include the cross-modal pairs.
        supervised_contrastive: bool. Include the label-derived pairs.

    Returns:
        dict of scalars: `contrastive` (the term weighted by λ),
        `semantic_alignment`, `supervised_contrastive` (means over their
        own pairs, for monitoring).
    """
    stacked = ops.concatenate(
        [ops.convert_to_tensor(embeddings[name]) for name in CONTRASTIVE_TYPES],
        axis=0,
    )
    num_rows = ops.shape(embeddings["text"])[0]
    labels = ops.reshape(ops.convert_to_tensor(labels), (-1,))
    num_anchors = ops.shape(labels)[0]
    classes = None
    if partners_per_role == 0:
        classes = label_classes(labels, round_labels)
    semantic, supervised, negative = contrastive_pair_masks(
        num_rows, num_anchors, partners_per_role, classes
    )
    positive = ops.logical_or(semantic, supervised)
    pair_losses = masked_nt_xent(
        stacked, positive, negative, temperature=temperature
    )

    def pair_mean(mask):
        mask = ops.cast(mask, pair_losses.dtype)
        return ops.sum(pair_losses * mask) / ops.maximum(ops.sum(mask), 1.0)

    if semantic_alignment and supervised_contrastive:
        used = positive
    elif semantic_alignment:
        used = semantic
    elif supervised_contrastive:
        used = supervised
    else:
        used = ops.zeros_like(positive)
    return {
        "contrastive": pair_mean(used),
        "semantic_alignment": pair_mean(semantic),
        "supervised_contrastive": pair_mean(supervised),
    }


def pair_layout(partners_per_role):
    """Row roles of one anchor's group, `["anchor", "ss", ..., "sd"]`."""
    return (
        ["anchor"]
        + ["ss"] * partners_per_role
        + ["dd"] * partners_per_role
        + ["sd"] * partners_per_role
    )

"""Shared maths of HyCon's contrastive losses (`docs/models/hycon.md`).

Helpers for `semi_contrastive`, `intra_modal_contrastive`,
`inter_modal_contrastive` and `hybrid_contrastive`: the polarity classes
that decide positives and negatives, the similarity of every pair of
(sample, modality) rows of a batch, and the per-anchor terms of the paper's
eqs. 6-12, all vectorised over the batch (no loop over samples).

Embeddings are stacked `(batch, modalities, dim)` (HyCon: text, audio,
vision); anchor `(i, m)` is sample `i`'s modality-`m` vector.
"""

import keras
from keras import ops

SIMILARITIES = ("shifted_cosine", "cosine")
ZERO_LABEL_CLASSES = ("non_negative", "non_positive", "exclude")
ANCHOR_REDUCTIONS = ("mean", "sum")

# Floor on the squared row norm: a zero row normalises to zero, not NaN.
_SQUARED_NORM_EPSILON = 1e-12
# `docs/models/hycon.md` guard on the ratio denominators.
_RATIO_EPSILON = 1e-8


def validate_options(similarity, zero_label_class, anchor_reduction):
    """Raises `ValueError` on an unknown option value."""
    for argument, value, allowed in (
        ("similarity", similarity, SIMILARITIES),
        ("zero_label_class", zero_label_class, ZERO_LABEL_CLASSES),
        ("anchor_reduction", anchor_reduction, ANCHOR_REDUCTIONS),
    ):
        if value not in allowed:
            raise ValueError(
                f"`{argument}` must be one of {allowed}. "
                f"Received: {argument}={value!r}"
            )


def prepare_pairs(
    labels, embeddings, similarity, zero_label_class, anchor_reduction
):
    """Validated options, normalised embeddings and the pair masks.

    The common first pass of the supervised HyCon losses.

    Returns:
        `(normalized, positive, negative)`: `normalize_embeddings` of
        `embeddings` and `pair_masks` of the labels' `polarity_classes`.
    """
    validate_options(similarity, zero_label_class, anchor_reduction)
    normalized = normalize_embeddings(embeddings)
    classes, included = polarity_classes(labels, zero_label_class)
    positive, negative = pair_masks(classes, included)
    return normalized, positive, negative


def polarity_classes(labels, zero_label_class="non_negative"):
    """Binary sentiment classes of HyCon's pair construction.

    The paper only distinguishes positive and negative sentiment
    (docs/models/hycon.md);
    how exact zeros are classed is a GAP (`docs/models/hycon.md`).

    Args:
        labels: float `(batch,)` or `(batch, 1)` sentiment labels.
        zero_label_class: str. `"non_negative"` (DECISION, default): class
            `y >= 0` vs `y < 0`, zeros join the positives (MMSA's
            "Has0" binarisation). `"non_positive"`: class `y > 0` vs
            `y <= 0`, zeros join the negatives. `"exclude"`: zero-labelled
            samples are neither anchors, positives nor negatives of the
            supervised terms.

    Returns:
        `(classes, included)`, float `(batch,)` each: the class (1 or 0)
        and whether the sample takes part in supervised pairs.
    """
    labels = ops.reshape(ops.convert_to_tensor(labels), (-1,))
    labels = ops.cast(labels, "float32")
    if zero_label_class == "non_negative":
        classes = ops.cast(labels >= 0.0, "float32")
        included = ops.ones_like(labels)
    elif zero_label_class == "non_positive":
        classes = ops.cast(labels > 0.0, "float32")
        included = ops.ones_like(labels)
    else:
        classes = ops.cast(labels > 0.0, "float32")
        included = ops.cast(ops.not_equal(labels, 0.0), "float32")
    return classes, included


def normalize_embeddings(embeddings):
    """L2-normalises `(batch, modalities, dim)` rows in float32."""
    embeddings = ops.cast(ops.convert_to_tensor(embeddings), "float32")
    if len(embeddings.shape) != 3:
        raise ValueError(
            "`embeddings` must be stacked modality vectors of shape "
            f"(batch, modalities, dim). Received: shape={embeddings.shape}"
        )
    if embeddings.shape[1] is not None and embeddings.shape[1] < 2:
        raise ValueError(
            "HyCon's losses need at least 2 modalities on axis 1. "
            f"Received: shape={embeddings.shape}"
        )
    squared_norm = ops.sum(ops.square(embeddings), axis=-1, keepdims=True)
    return embeddings * ops.rsqrt(
        ops.maximum(squared_norm, _SQUARED_NORM_EPSILON)
    )


def _similarity(cosine, similarity):
    if similarity == "shifted_cosine":
        # GAP/DECISION (`docs/models/hycon.md`): the paper claims L2-normalised
        # dot
        # products lie in [0, 1]; they lie in [-1, 1]. (1 + cos) / 2 does.
        return 0.5 * (1.0 + cosine)
    return cosine


def _off_diagonal(size):
    """`1 - I` of `size` x `size` (float32), built with `keras.ops`.

    Not from a NumPy constant or `ops.arange`: inside a `torch.compile`d
    step both break the graph (dynamo traces neither `ndarray.dtype` nor
    `arange` of a symbolic batch size).
    """
    return 1.0 - ops.eye(size, dtype="float32")


def pair_masks(classes, included):
    """Positive and negative pair masks `(batch, batch)` (float).

    Positive: another sample (`j != i`) of the same class; negative: a
    sample of the other class. Excluded samples are in neither.
    """
    off_diagonal = _off_diagonal(ops.shape(classes)[0])
    same = ops.cast(ops.equal(classes[:, None], classes[None, :]), "float32")
    both = included[:, None] * included[None, :]
    return same * both * off_diagonal, (1.0 - same) * both


def _ratio(positive_sum, negative_sum, num_negatives):
    """`Σ_P s / (Σ_P s + Σ_Q s)`; exactly 1 (no gradient) when Q is empty."""
    has_negatives = num_negatives > 0.0
    denominator = ops.where(
        has_negatives, positive_sum + negative_sum + _RATIO_EPSILON, 1.0
    )
    return ops.where(has_negatives, positive_sum / denominator, 1.0)


def _ratio_terms(
    scores,
    positive,
    negative,
    num_positives,
    num_negatives,
    refinement_sum,
    anchor_reduction,
):
    """Per-sample `-r + R` of IAMCL (eqs. 7-9) and IEMCL (eqs. 10-12).

    `r = Σ_P s / (Σ_P s + Σ_Q s)` over the pair masks `positive` /
    `negative` `(batch, batch)` applied to `scores` `(m, batch, batch)`;
    `R = refinement_sum / |P|` (`refinement_sum` `(m, batch)`, the summed
    squared distances of the positives; `None`: no refinement term).
    Anchors without positives contribute nothing (`_reduce_anchors`).
    """
    positive_sum = ops.sum(scores * positive[None], axis=-1)  # (m, batch)
    negative_sum = ops.sum(scores * negative[None], axis=-1)
    terms = -_ratio(positive_sum, negative_sum, num_negatives[None])
    if refinement_sum is not None:
        terms = terms + refinement_sum / ops.maximum(num_positives, 1.0)[None]
    valid = ops.cast(num_positives > 0.0, "float32")
    return _reduce_anchors(terms, valid, anchor_reduction)


def _reduce_anchors(terms, valid, anchor_reduction):
    """Per-sample values from per-anchor `terms` `(modalities, batch)`.

    `"mean"`: `valid_i · mean_m terms[m, i] · B / Σ_j valid_j`, so the
    batch mean is the mean over valid anchors. `"sum"`:
    `valid_i · Σ_m terms[m, i]`, so the batch sum is the sum over anchors.
    """
    terms = terms * valid[None, :]
    if anchor_reduction == "sum":
        return ops.sum(terms, axis=0)
    batch = ops.cast(ops.shape(valid)[0], "float32")
    scale = batch / ops.maximum(ops.sum(valid), 1.0)
    return ops.mean(terms, axis=0) * scale


def semi_contrastive_terms(
    normalized, margin, similarity, anchor_reduction="mean"
):
    """Per-sample SCL values (eq. 6) from normalised embeddings."""
    num_modalities = normalized.shape[1]
    cosine = ops.einsum("imd,ind->mni", normalized, normalized)
    scores = _similarity(cosine, similarity)  # (m, n, batch)
    other = _off_diagonal(num_modalities)
    squared = ops.square(scores - margin) * other[:, :, None]
    terms = ops.sum(squared, axis=1) / (num_modalities - 1)  # (m, batch)
    valid = ops.ones_like(terms[0])
    return _reduce_anchors(terms, valid, anchor_reduction)


def intra_modal_terms(
    normalized,
    positive,
    negative,
    refinement,
    similarity,
    anchor_reduction="mean",
):
    """Per-sample IAMCL values (eqs. 7-9) from normalised embeddings."""
    cosine = ops.einsum("imd,jmd->mij", normalized, normalized)
    scores = _similarity(cosine, similarity)  # (m, batch, batch)
    num_positives = ops.sum(positive, axis=-1)  # (batch,)
    num_negatives = ops.sum(negative, axis=-1)
    squared = None
    if refinement:
        squared = ops.sum(ops.square(scores - 1.0) * positive[None], axis=-1)
    return _ratio_terms(
        scores,
        positive,
        negative,
        num_positives,
        num_negatives,
        squared,
        anchor_reduction,
    )


def inter_modal_terms(
    normalized,
    positive,
    negative,
    margin,
    refinement,
    similarity,
    anchor_reduction="mean",
):
    """Per-sample IEMCL values (eqs. 10-12) from normalised embeddings."""
    num_modalities = normalized.shape[1]
    cosine = ops.einsum("imd,jnd->mnij", normalized, normalized)
    scores = _similarity(cosine, similarity)  # (m, n, batch, batch)
    # Only blocks n != m: the other modalities of the other samples. The
    # same sample's other modalities (i == j) are SCL's, excluded by
    # `positive`'s zero diagonal (and never negatives).
    other = _off_diagonal(num_modalities)[:, :, None, None]
    cross_scores = ops.sum(scores * other, axis=1)  # (m, batch, batch)
    num_positives = (num_modalities - 1) * ops.sum(positive, axis=-1)
    num_negatives = (num_modalities - 1) * ops.sum(negative, axis=-1)
    squared = None
    if refinement:
        squared = ops.sum(ops.square(scores - margin) * other, axis=1)
        squared = ops.sum(squared * positive[None], axis=-1)
    return _ratio_terms(
        cross_scores,
        positive,
        negative,
        num_positives,
        num_negatives,
        squared,
        anchor_reduction,
    )


class ModalityContrastiveLoss(keras.losses.Loss):
    """Base of the HyCon loss classes: `loss(labels, embeddings)`.

    Stores the keyword `options` of the per-sample `loss_fn` as
    attributes (validated) and forwards them in `call`. Subclasses keep
    their own signature and registered name; `get_config` returns the
    options, so a subclass's signature must name them as `loss_fn` does.

    Args:
        loss_fn: callable `(labels, embeddings, **options)` returning
            per-sample values `(batch,)`.
        options: dict of `loss_fn`'s keyword arguments; must hold
            `similarity`, `zero_label_class` and `anchor_reduction`.
        reduction, name, dtype: as `keras.losses.Loss`.
    """

    def __init__(self, loss_fn, options, reduction, name, dtype):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        validate_options(
            options["similarity"],
            options["zero_label_class"],
            options["anchor_reduction"],
        )
        self._loss_fn = loss_fn
        self._option_names = tuple(options)
        for option, value in options.items():
            setattr(self, option, value)

    def _options(self):
        return {option: getattr(self, option) for option in self._option_names}

    def call(self, y_true, y_pred):
        return self._loss_fn(y_true, y_pred, **self._options())

    def get_config(self):
        return {**super().get_config(), **self._options()}

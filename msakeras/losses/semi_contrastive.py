"""`semi_contrastive` and `SemiContrastive`: HyCon's SCL term (eq. 6)."""

import keras

from msakeras.losses import modality_contrastive_ops as pair_ops


def semi_contrastive(
    embeddings,
    margin=0.8,
    similarity="shifted_cosine",
    anchor_reduction="mean",
):
    """HyCon's semi-contrastive loss (SCL, eq. 6): positives only.

    The argument is an embedding stack, not `(y_true, y_pred)`: row `i` of
    `embeddings` holds sample `i`'s unimodal vectors `x^m` (HyCon: text,
    audio, vision) on axis 1. The vectors are L2-normalised; for anchor
    `(i, m)` the positives are the other modalities of the same sample, and
    the anchor's term is

        `1/(K-1) · Σ_{m' != m} (s(x_i^m, x_i^{m'}) - α)²`

    with `K` modalities (the paper's `½ Σ_{i=1}^{2}` for `K = 3`) and `α`
    the modality margin, which keeps some modality-specific distance.
    There are no negatives and no labels.

    `s` is `(1 + cos) / 2` by default (GAP/DECISION, `docs/models/hycon.md`: the
    paper's "dot product between 0 and 1" of normalised vectors is a
    cosine in [-1, 1]); `similarity="cosine"` uses the literal cosine.

    Args:
        embeddings: float `(batch, modalities, dim)`, `modalities >= 2`.
        margin: float. α, the modality margin. Defaults to `0.8` (paper
            docs/models/hycon.md; `1.0` is the "W/O modality margin" ablation).
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        anchor_reduction: str. How the `K` anchors of a sample form its
            value: `"mean"` (the batch mean is the mean over all anchors,
            DECISION `docs/models/hycon.md`) or `"sum"` (the batch sum is the
            sum
            over all anchors, the paper's "summed over all data samples of
            different modalities"). Defaults to `"mean"`.

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, eq. 6.
    """
    pair_ops.validate_options(similarity, "non_negative", anchor_reduction)
    normalized = pair_ops.normalize_embeddings(embeddings)
    return pair_ops.semi_contrastive_terms(
        normalized, margin, similarity, anchor_reduction
    )


@keras.saving.register_keras_serializable(package="msakeras")
class SemiContrastive(keras.losses.Loss):
    """HyCon's SCL (eq. 6); call as `loss(labels, embeddings)`.

    `y_pred` is the embedding stack `(batch, modalities, dim)` (not a
    prediction); `y_true` is accepted for the `Loss` interface and ignored
    (SCL is unsupervised). Wraps `msakeras.losses.semi_contrastive`; the
    Keras `reduction` and `sample_weight` act on its per-sample values.

    Args:
        margin: float. α. Defaults to `0.8`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        anchor_reduction: str. `"mean"` or `"sum"` over a sample's anchors
            (see `semi_contrastive`). Defaults to `"mean"`.
        reduction: str. Keras reduction over samples. Defaults to
            `"sum_over_batch_size"`.
        name: str. Defaults to `"semi_contrastive"`.
        dtype: dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    embeddings = keras.ops.stack([text, audio, vision], axis=1)
    value = msakeras.losses.SemiContrastive(margin=0.8)(labels, embeddings)
    ```

    Reference:
        Mai et al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797,
        eq. 6.
    """

    def __init__(
        self,
        margin=0.8,
        similarity="shifted_cosine",
        anchor_reduction="mean",
        reduction="sum_over_batch_size",
        name="semi_contrastive",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        pair_ops.validate_options(similarity, "non_negative", anchor_reduction)
        self.margin = margin
        self.similarity = similarity
        self.anchor_reduction = anchor_reduction

    def call(self, y_true, y_pred):
        return semi_contrastive(
            y_pred,
            margin=self.margin,
            similarity=self.similarity,
            anchor_reduction=self.anchor_reduction,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "margin": self.margin,
            "similarity": self.similarity,
            "anchor_reduction": self.anchor_reduction,
        }

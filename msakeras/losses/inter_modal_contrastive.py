"""`inter_modal_contrastive` and `InterModalContrastive`: HyCon's IEMCL."""

import keras

from msakeras.losses import modality_contrastive_ops as pair_ops


def inter_modal_contrastive(
    labels,
    embeddings,
    margin=0.8,
    refinement=True,
    similarity="shifted_cosine",
    zero_label_class="non_negative",
    anchor_reduction="mean",
):
    """HyCon's inter-modal contrastive loss (IEMCL, eqs. 10-12).

    Supervised, across modalities and samples. `embeddings` stacks sample
    `i`'s unimodal vectors on axis 1 (HyCon: text, audio, vision); they
    are L2-normalised. For anchor `(i, m)` the positives `P'` are the
    *other* modalities of the other samples of the anchor's class (`2N`
    items for three modalities; the same sample's other modalities belong
    to SCL and are excluded), the negatives `Q'` the other modalities of
    the other class (`2M` items), and

        `r' = Σ_P' s / (Σ_P' s + Σ_Q' s)`          (eq. 10)
        `R' = (1/2N) Σ_P' (s - α)²`               (eq. 11, refinement with
                                                    the modality margin)
        term = `-r' + R'`                          (eq. 12)

    Classes, zero labels, guards and `s` are as in
    `intra_modal_contrastive` (single-class batch: ratio exactly 1;
    anchors without positives contribute nothing; `1e-8` in the
    denominator; `s = (1 + cos) / 2` by default, GAP/DECISION
    `docs/models/hycon.md`).

    Args:
        labels: float `(batch,)` or `(batch, 1)` sentiment labels.
        embeddings: float `(batch, modalities, dim)`, `modalities >= 2`.
        margin: float. α in the refinement term. Defaults to `0.8`.
        refinement: bool. Add eq. 11's term. Defaults to `True`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"`. Defaults to `"non_negative"`.
        anchor_reduction: str. `"mean"` or `"sum"` over anchors (see
            `intra_modal_contrastive`). Defaults to `"mean"`.

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, eqs. 10-12.
    """
    normalized, positive, negative = pair_ops.prepare_pairs(
        labels, embeddings, similarity, zero_label_class, anchor_reduction
    )
    return pair_ops.inter_modal_terms(
        normalized,
        positive,
        negative,
        margin,
        refinement,
        similarity,
        anchor_reduction,
    )


@keras.saving.register_keras_serializable(package="msakeras")
class InterModalContrastive(pair_ops.ModalityContrastiveLoss):
    """HyCon's IEMCL (eqs. 10-12); call as `loss(labels, embeddings)`.

    `y_true` are the sentiment labels; `y_pred` is the embedding stack
    `(batch, modalities, dim)`, not a prediction. Wraps
    `msakeras.losses.inter_modal_contrastive`; the Keras `reduction` and
    `sample_weight` act on its per-sample values.

    Args:
        margin: float. α. Defaults to `0.8`.
        refinement: bool. Eq. 11's refinement term. Defaults to `True`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"`. Defaults to `"non_negative"`.
        anchor_reduction: str. `"mean"` or `"sum"`. Defaults to `"mean"`.
        reduction: str. Keras reduction over samples. Defaults to
            `"sum_over_batch_size"`.
        name: str. Defaults to `"inter_modal_contrastive"`.
        dtype: dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    embeddings = keras.ops.stack([text, audio, vision], axis=1)
    value = msakeras.losses.InterModalContrastive()(labels, embeddings)
    ```

    Reference:
        Mai et al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797,
        eqs. 10-12.
    """

    def __init__(
        self,
        margin=0.8,
        refinement=True,
        similarity="shifted_cosine",
        zero_label_class="non_negative",
        anchor_reduction="mean",
        reduction="sum_over_batch_size",
        name="inter_modal_contrastive",
        dtype=None,
    ):
        super().__init__(
            inter_modal_contrastive,
            {
                "margin": margin,
                "refinement": refinement,
                "similarity": similarity,
                "zero_label_class": zero_label_class,
                "anchor_reduction": anchor_reduction,
            },
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

"""`intra_modal_contrastive` and `IntraModalContrastive`: HyCon's IAMCL."""

import keras

from msakeras.losses import modality_contrastive_ops as pair_ops


def intra_modal_contrastive(
    labels,
    embeddings,
    refinement=True,
    similarity="shifted_cosine",
    zero_label_class="non_negative",
    anchor_reduction="mean",
):
    """HyCon's intra-modal contrastive loss (IAMCL, eqs. 7-9).

    Supervised, within one modality. `embeddings` stacks sample `i`'s
    unimodal vectors on axis 1 (HyCon: text, audio, vision); they are
    L2-normalised. For anchor `(i, m)` the positives `P` are the same
    modality of the other samples of the anchor's class (`N` items), the
    negatives `Q` the same modality of the other class (`M` items), and

        `r = Σ_P s / (Σ_P s + Σ_Q s)`          (eq. 7, a ratio, no log)
        `R = (1/N) Σ_P (s - 1)²`              (eq. 8, refinement)
        term = `-r + R`                        (eq. 9)

    Classes are the binary polarity of the labels (paper §4.4, "positive
    and negative classes"); zeros follow `zero_label_class` (GAP).
    Guards (`docs/models/hycon.md`): anchors without positives contribute
    nothing;
    `1e-8` is added to the ratio's denominator; with no negatives (a
    single-class batch) the ratio is exactly 1, a constant — never NaN.

    `s` is `(1 + cos) / 2` by default (GAP/DECISION, `docs/models/hycon.md`: a
    cosine lies in [-1, 1], not in the paper's [0, 1], and negative values
    make the ratio ill-posed); `similarity="cosine"` is the literal form.
    The paper draws pairs "randomly from the mini-batch"; its formulas,
    and this function, use all pairs of the batch.

    Args:
        labels: float `(batch,)` or `(batch, 1)` sentiment labels.
        embeddings: float `(batch, modalities, dim)`.
        refinement: bool. Add eq. 8's refinement term (`False` is the
            "W/O refinement loss" ablation). Defaults to `True`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"` (zeros join positives,
            DECISION), `"non_positive"` (zeros join negatives) or
            `"exclude"` (zero-labelled samples take no part). Defaults to
            `"non_negative"`.
        anchor_reduction: str. `"mean"`: values are scaled so that the
            batch mean is the mean over anchors with a positive (DECISION,
            `docs/models/hycon.md`); `"sum"`: the batch sum is the sum over
            those
            anchors (the paper's "summed" reading). Defaults to `"mean"`.

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, eqs. 7-9.
    """
    normalized, positive, negative = pair_ops.prepare_pairs(
        labels, embeddings, similarity, zero_label_class, anchor_reduction
    )
    return pair_ops.intra_modal_terms(
        normalized,
        positive,
        negative,
        refinement,
        similarity,
        anchor_reduction,
    )


@keras.saving.register_keras_serializable(package="msakeras")
class IntraModalContrastive(pair_ops.ModalityContrastiveLoss):
    """HyCon's IAMCL (eqs. 7-9); call as `loss(labels, embeddings)`.

    `y_true` are the sentiment labels `(batch,)` or `(batch, 1)`; `y_pred`
    is the embedding stack `(batch, modalities, dim)`, not a prediction.
    Wraps `msakeras.losses.intra_modal_contrastive`; the Keras `reduction`
    and `sample_weight` act on its per-sample values. Values depend on the
    batch (more pairs per anchor with larger batches).

    Args:
        refinement: bool. Eq. 8's refinement term. Defaults to `True`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"`. Defaults to `"non_negative"`.
        anchor_reduction: str. `"mean"` or `"sum"` (see
            `intra_modal_contrastive`). Defaults to `"mean"`.
        reduction: str. Keras reduction over samples. Defaults to
            `"sum_over_batch_size"`.
        name: str. Defaults to `"intra_modal_contrastive"`.
        dtype: dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    embeddings = keras.ops.stack([text, audio, vision], axis=1)
    value = msakeras.losses.IntraModalContrastive()(labels, embeddings)
    ```

    Reference:
        Mai et al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797,
        eqs. 7-9.
    """

    def __init__(
        self,
        refinement=True,
        similarity="shifted_cosine",
        zero_label_class="non_negative",
        anchor_reduction="mean",
        reduction="sum_over_batch_size",
        name="intra_modal_contrastive",
        dtype=None,
    ):
        super().__init__(
            intra_modal_contrastive,
            {
                "refinement": refinement,
                "similarity": similarity,
                "zero_label_class": zero_label_class,
                "anchor_reduction": anchor_reduction,
            },
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

"""`hybrid_contrastive` and `HybridContrastive`: HyCon's L_hybrid (eq. 13)."""

import keras

from msakeras.losses import modality_contrastive_ops as pair_ops


def hybrid_contrastive_terms(
    labels,
    embeddings,
    margin=0.8,
    refinement=True,
    similarity="shifted_cosine",
    zero_label_class="non_negative",
    anchor_reduction="mean",
):
    """The three per-sample terms of HyCon's hybrid loss, sharing one pass.

    Returns `{"intra_modal": IAMCL, "inter_modal": IEMCL, "semi": SCL}`,
    each float `(batch,)` and equal to `intra_modal_contrastive`,
    `inter_modal_contrastive` and `semi_contrastive` with the same
    arguments (see those for the maths, eqs. 6-12, and the guards).
    `HyConModel.compute_loss` uses it to track each term.
    """
    normalized, positive, negative = pair_ops.prepare_pairs(
        labels, embeddings, similarity, zero_label_class, anchor_reduction
    )
    return {
        "intra_modal": pair_ops.intra_modal_terms(
            normalized,
            positive,
            negative,
            refinement,
            similarity,
            anchor_reduction,
        ),
        "inter_modal": pair_ops.inter_modal_terms(
            normalized,
            positive,
            negative,
            margin,
            refinement,
            similarity,
            anchor_reduction,
        ),
        "semi": pair_ops.semi_contrastive_terms(
            normalized, margin, similarity, anchor_reduction
        ),
    }


def hybrid_contrastive(
    labels,
    embeddings,
    intra_modal_weight=1.0,
    inter_modal_weight=1.0,
    semi_contrastive_weight=1.0,
    margin=0.8,
    refinement=True,
    similarity="shifted_cosine",
    zero_label_class="non_negative",
    anchor_reduction="mean",
):
    """HyCon's hybrid contrastive loss (eq. 13), one value per sample.

    `L_hybrid = λ1 L_IAMCL + λ2 L_IEMCL + λ3 L_SCL` over the unimodal
    vectors before fusion: `embeddings` stacks sample `i`'s vectors on
    axis 1 (HyCon: text, audio, vision) and `labels` give the binary
    polarity classes of the supervised terms. Each term is the per-sample
    function of the same name (`intra_modal_contrastive`, eqs. 7-9;
    `inter_modal_contrastive`, eqs. 10-12; `semi_contrastive`, eq. 6), so
    the batch mean of this function is the weighted sum of the three batch
    means (DECISION, `docs/models/hycon.md`: mean over anchors; the paper's
    "summed
    over all data samples" is `anchor_reduction="sum"` with a Keras `sum`
    reduction).

    Args:
        labels: float `(batch,)` or `(batch, 1)` sentiment labels.
        embeddings: float `(batch, modalities, dim)`, `modalities >= 2`.
        intra_modal_weight: float. λ1, weight of IAMCL. Defaults to `1.0`.
        inter_modal_weight: float. λ2, weight of IEMCL. Defaults to `1.0`.
        semi_contrastive_weight: float. λ3, weight of SCL. Defaults to
            `1.0` (paper §4.4: all λ are 1).
        margin: float. α, the modality margin of SCL and IEMCL's
            refinement. Defaults to `0.8`.
        refinement: bool. The refinement terms of IAMCL and IEMCL.
            Defaults to `True`.
        similarity: str. `"shifted_cosine"` (`(1 + cos) / 2`, DECISION) or
            `"cosine"` (literal). Defaults to `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"` (GAP: how zero labels are classed). Defaults to
            `"non_negative"`.
        anchor_reduction: str. `"mean"` or `"sum"`. Defaults to `"mean"`.

    Returns:
        float `(batch,)`, one value per sample.

    Example:

    ```python
    embeddings = keras.ops.stack([text, audio, vision], axis=1)
    per_sample = msakeras.losses.hybrid_contrastive(labels, embeddings)
    ```

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797, eqs. 6-14.
    """
    terms = hybrid_contrastive_terms(
        labels,
        embeddings,
        margin=margin,
        refinement=refinement,
        similarity=similarity,
        zero_label_class=zero_label_class,
        anchor_reduction=anchor_reduction,
    )
    return (
        intra_modal_weight * terms["intra_modal"]
        + inter_modal_weight * terms["inter_modal"]
        + semi_contrastive_weight * terms["semi"]
    )


@keras.saving.register_keras_serializable(package="msakeras")
class HybridContrastive(pair_ops.ModalityContrastiveLoss):
    """HyCon's hybrid loss (eq. 13); call as `loss(labels, embeddings)`.

    `y_true` are the sentiment labels; `y_pred` is the embedding stack
    `(batch, modalities, dim)` of unimodal vectors before fusion, not a
    prediction. Wraps `msakeras.losses.hybrid_contrastive`; the Keras
    `reduction` and `sample_weight` act on its per-sample values.

    Args:
        intra_modal_weight: float. λ1 (IAMCL). Defaults to `1.0`.
        inter_modal_weight: float. λ2 (IEMCL). Defaults to `1.0`.
        semi_contrastive_weight: float. λ3 (SCL). Defaults to `1.0`.
        margin: float. α. Defaults to `0.8`.
        refinement: bool. Refinement terms. Defaults to `True`.
        similarity: str. `"shifted_cosine"` or `"cosine"`. Defaults to
            `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"`. Defaults to `"non_negative"`.
        anchor_reduction: str. `"mean"` or `"sum"`. Defaults to `"mean"`.
        reduction: str. Keras reduction over samples. Defaults to
            `"sum_over_batch_size"`.
        name: str. Defaults to `"hybrid_contrastive"`.
        dtype: dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    loss = msakeras.losses.HybridContrastive(margin=0.8)
    value = loss(labels, keras.ops.stack([text, audio, vision], axis=1))
    ```

    Reference:
        Mai et al., IEEE TAFFC 2023, https://arxiv.org/abs/2109.01797,
        eq. 13.
    """

    def __init__(
        self,
        intra_modal_weight=1.0,
        inter_modal_weight=1.0,
        semi_contrastive_weight=1.0,
        margin=0.8,
        refinement=True,
        similarity="shifted_cosine",
        zero_label_class="non_negative",
        anchor_reduction="mean",
        reduction="sum_over_batch_size",
        name="hybrid_contrastive",
        dtype=None,
    ):
        super().__init__(
            hybrid_contrastive,
            {
                "intra_modal_weight": intra_modal_weight,
                "inter_modal_weight": inter_modal_weight,
                "semi_contrastive_weight": semi_contrastive_weight,
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

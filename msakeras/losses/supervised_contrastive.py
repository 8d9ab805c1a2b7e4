"""`supervised_contrastive` and `SupervisedContrastive` (DashFusion)."""

import keras
from keras import ops

from msakeras.losses import loss_precision
from msakeras.losses.nt_xent import masked_nt_xent


def label_classes(labels, round_labels=True):
    """Sentiment classes used to decide "same label"
    (`docs/models/dashfusion.md`).

    MOSI/MOSEI: `round(y)` (half-to-even, as `np.round`), 7 integer
    classes. SIMS: the raw labels (multiples of 0.2), compared exactly.

    Args:
        labels: float `(batch,)` or `(batch, 1)`.
        round_labels: bool. Round to integers first. Defaults to `True`.

    Returns:
        float `(batch,)`.
    """
    labels = ops.reshape(ops.convert_to_tensor(labels), (-1,))
    labels = ops.cast(labels, "float32")
    return ops.round(labels) if round_labels else labels


def supervised_contrastive(
    labels, embeddings, temperature=0.5, round_labels=True
):
    """Supervised NT-Xent with positives and negatives derived from labels.

    The label-derived part of DashFusion's contrastive objective
    (`docs/models/dashfusion.md`, paper §III.D) in its in-batch form: for anchor
    row
    `i`, the positives are the other rows of the same sentiment class and
    the negatives are the rows of a different class; each positive pair
    `(i, p)` costs

        `l_ip = -log( e^{s_ip/τ} / (e^{s_ip/τ} + sum_{n: class_n !=
        class_i} e^{s_in/τ}) )`,

    with `s` the cosine similarity (pytorch-metric-learning's NTXentLoss
    denominator: the other positives are not in it; `masked_nt_xent`).
    The value for sample `i` is the mean of `l_ip` over its positives.
    Guards: an anchor without positives gets 0 (no 0/0), and a batch with a
    single class has no negatives, so every pair costs exactly 0 — never
    NaN.

    DECISION: the per-sample value averages over the anchor's positives
    (Khosla et al.'s normalisation), so that the Keras reductions and
    `sample_weight` act on samples; PML's `MeanReducer` averages over all
    pairs of the batch instead, which weights classes by their pair count.
    DashFusion's own structured loss (`DashFusionModel`, which draws
    positives and hard negatives with `ContrastivePairSampler`) has the
    same number of pairs per sample, where the two coincide.

    Args:
        labels: float `(batch,)` or `(batch, 1)`. Sentiment labels (or
            integer class ids with `round_labels=True`).
        embeddings: float `(batch, dim)`.
        temperature: float. τ. Defaults to `0.5` (DashFusion).
        round_labels: bool. Classes are `round(labels)` (MOSI, MOSEI);
            `False` compares raw labels exactly (SIMS). Defaults to `True`.

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020,
        https://arxiv.org/abs/2004.11362; Wen et al., "DashFusion", IEEE
        TNNLS 2025, §III.D.
    """
    # float32 under mixed precision: exponentials over the batch.
    embeddings = loss_precision.at_least_float32(embeddings)
    classes = label_classes(labels, round_labels=round_labels)
    same = ops.equal(classes[:, None], classes[None, :])
    rows = ops.arange(ops.shape(embeddings)[0])
    not_self = ops.not_equal(rows[:, None], rows[None, :])
    positive_mask = ops.logical_and(same, not_self)
    pair_losses = masked_nt_xent(
        embeddings,
        positive_mask,
        ops.logical_not(same),
        temperature=temperature,
    )
    counts = ops.sum(ops.cast(positive_mask, pair_losses.dtype), axis=-1)
    return ops.sum(pair_losses, axis=-1) / ops.maximum(counts, 1.0)


@keras.saving.register_keras_serializable(package="msakeras")
class SupervisedContrastive(keras.losses.Loss):
    """Supervised NT-Xent; call as `loss(labels, embeddings)`.

    `y_true` are sentiment labels `(batch,)` or `(batch, 1)` and `y_pred`
    are embeddings `(batch, dim)`. Same-class rows are positives,
    other-class rows negatives (DashFusion's label-derived pairs,
    `docs/models/dashfusion.md`); wraps
    `msakeras.losses.supervised_contrastive`, which
    is NaN-free for anchors without positives and single-class batches.
    Values grow with the batch size (more negatives), so compare them only
    at equal batch size.

    Args:
        temperature: float. τ. Defaults to `0.5` (DashFusion).
        round_labels: bool. Classes are `round(labels)` (MOSI, MOSEI);
            `False` compares labels exactly (SIMS). Defaults to `True`.
        reduction: str. Keras loss reduction. Defaults to
            `"sum_over_batch_size"`.
        name: str. Defaults to `"supervised_contrastive"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    loss = msakeras.losses.SupervisedContrastive(temperature=0.5)
    value = loss(labels, text_embedding)
    ```

    Reference:
        Wen et al., "DashFusion", IEEE TNNLS 2025, §III.D,
        https://github.com/ultramarineX/DashFusion
    """

    def __init__(
        self,
        temperature=0.5,
        round_labels=True,
        reduction="sum_over_batch_size",
        name="supervised_contrastive",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = temperature
        self.round_labels = round_labels

    def call(self, y_true, y_pred):
        return supervised_contrastive(
            y_true,
            y_pred,
            temperature=self.temperature,
            round_labels=self.round_labels,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "round_labels": self.round_labels,
        }

"""`nt_xent`, `masked_nt_xent` and `NTXent`: DashFusion's NT-Xent loss."""

import keras
from keras import ops

from msakeras.losses import loss_precision

# Floor on the squared row norm: a zero row normalises to zero, not NaN.
_SQUARED_NORM_EPSILON = 1e-12
# Logit given to pairs that are not negatives; exp() of it is exactly 0.
_MASKED_LOGIT = -1e9


def _normalize_rows(vectors):
    squared_norm = ops.sum(ops.square(vectors), axis=-1, keepdims=True)
    return vectors * ops.rsqrt(ops.maximum(squared_norm, _SQUARED_NORM_EPSILON))


def masked_nt_xent(embeddings, positive_mask, negative_mask, temperature=0.5):
    """NT-Xent loss of every (anchor, positive) pair given by masks.

    The pair form of pytorch-metric-learning's `NTXentLoss` (v0.9.99, the
    version DashFusion's `cont_NTXentLoss` subclasses): rows are
    L2-normalised, `s_ij = cos(e_i, e_j) / temperature`, and for each
    positive pair `(a, p)`

        `l_ap = -log( e^{s_ap} / (e^{s_ap} + sum_{n: (a, n) negative}
        e^{s_an}) )`.

    Only the negatives of the same anchor row `a` enter the denominator;
    the other positives do not (the official formulation,
    `docs/models/dashfusion.md`;
    the paper's eq. 5 also sums the positives). A pair whose anchor has no
    negatives gets `l_ap = 0` (PML adds a 1e-38 floor inside the log, which
    is below float32 resolution here). Leading batch dimensions are allowed:
    each problem is independent.

    Args:
        embeddings: float `(..., rows, dim)`.
        positive_mask: bool/int `(..., rows, rows)` (or broadcastable);
            `[a, p]` is true for each positive pair.
        negative_mask: bool/int `(..., rows, rows)` (or broadcastable);
            `[a, n]` is true for each negative pair.
        temperature: float. τ. Defaults to `0.5` (DashFusion).

    Returns:
        float `(..., rows, rows)`: `l_ap` at positive pairs, 0 elsewhere.
    """
    # float32 under mixed precision: log-sum-exp over the batch.
    embeddings = _normalize_rows(loss_precision.at_least_float32(embeddings))
    logits = ops.matmul(embeddings, ops.swapaxes(embeddings, -1, -2))
    logits = logits / temperature
    negative_mask = ops.cast(negative_mask, "bool")
    positive_mask = ops.cast(positive_mask, logits.dtype)
    negative_logits = ops.where(
        negative_mask, logits, ops.cast(_MASKED_LOGIT, logits.dtype)
    )
    # logsumexp over the anchor's negatives, (..., rows, 1).
    negative_lse = ops.logsumexp(negative_logits, axis=-1, keepdims=True)
    # -log(e^s / (e^s + e^lse)) = softplus(lse - s); exactly 0 when the
    # anchor has no negatives (lse ~ -1e9).
    pair_losses = ops.softplus(negative_lse - logits)
    return pair_losses * positive_mask


def nt_xent(anchor, positive, temperature=0.5):
    """Symmetric NT-Xent (SimCLR) between two views; in-batch negatives.

    Both arguments are embeddings (not `(y_true, y_pred)` labels): row `i`
    of `anchor` and row `i` of `positive` are two views of sample `i` (for
    DashFusion's semantic alignment, the text and the audio or vision global
    vectors of one clip). This is exactly what pytorch-metric-learning's
    `NTXentLoss` computes for `loss(concat([anchor, positive]),
    concat([arange(B), arange(B)]))`: the `2B` rows are L2-normalised, the
    positive pairs are `(i, i + B)` and `(i + B, i)`, the negatives of a
    row are the `2B - 2` rows of other samples, and each pair's loss is

        `-log( e^{s_ap/τ} / (e^{s_ap/τ} + sum_n e^{s_an/τ}) )`

    (the other positive is not in the denominator; `masked_nt_xent`). The
    value for sample `i` is the mean of its two pair losses, so the batch
    mean equals PML's mean over positive pairs.

    Args:
        anchor: float `(batch, dim)`.
        positive: float `(batch, dim)`.
        temperature: float. τ. Defaults to `0.5` (DashFusion).

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual
        Representations", ICML 2020, https://arxiv.org/abs/2002.05709;
        Wen et al., "DashFusion", IEEE TNNLS 2025, eq. 5.
    """
    anchor = loss_precision.at_least_float32(anchor)
    positive = ops.cast(ops.convert_to_tensor(positive), anchor.dtype)
    batch_size = ops.shape(anchor)[0]
    embeddings = ops.concatenate([anchor, positive], axis=0)
    sample_ids = ops.concatenate(
        [ops.arange(batch_size), ops.arange(batch_size)], axis=0
    )
    same = ops.equal(sample_ids[:, None], sample_ids[None, :])
    rows = ops.arange(2 * batch_size)
    not_self = ops.not_equal(rows[:, None], rows[None, :])
    pair_losses = masked_nt_xent(
        embeddings,
        ops.logical_and(same, not_self),
        ops.logical_not(same),
        temperature=temperature,
    )
    per_row = ops.sum(pair_losses, axis=-1)  # one positive per row
    return 0.5 * (per_row[:batch_size] + per_row[batch_size:])


@keras.saving.register_keras_serializable(package="msakeras")
class NTXent(keras.losses.Loss):
    """Symmetric NT-Xent; call as `loss(anchor, positive)` (embeddings).

    Both arguments are embeddings, not `(y_true, y_pred)` labels: row `i`
    of `anchor` `(batch, dim)` and of `positive` `(batch, dim)` are two
    views of one sample; the other samples of the batch are negatives.
    Wraps `msakeras.losses.nt_xent` (pytorch-metric-learning's `NTXentLoss`
    with in-batch labels, as DashFusion uses it; the positive is not in its
    own denominator). Values grow with the batch size (more negatives), so
    compare them only at equal batch size.

    Args:
        temperature: float. τ. Defaults to `0.5` (DashFusion).
        reduction: str. Keras loss reduction. Defaults to
            `"sum_over_batch_size"` (PML's mean over positive pairs).
        name: str. Defaults to `"nt_xent"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    loss = msakeras.losses.NTXent(temperature=0.5)
    value = loss(text_embedding, audio_embedding)
    ```

    Reference:
        Wen et al., "DashFusion: Dual-stream Alignment with Hierarchical
        Bottleneck Fusion for Multimodal Sentiment Analysis", IEEE TNNLS
        2025, eq. 5, https://github.com/ultramarineX/DashFusion
    """

    def __init__(
        self,
        temperature=0.5,
        reduction="sum_over_batch_size",
        name="nt_xent",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = temperature

    def call(self, anchor, positive):
        return nt_xent(anchor, positive, temperature=self.temperature)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}

"""`info_nce` and `InfoNCE`: MMIM's CPC score (`docs/building_blocks.md`)."""

import keras
from keras import ops

from msakeras.losses import loss_precision

# Floor on the squared row norm: a zero row normalises to zero, not NaN.
_SQUARED_NORM_EPSILON = 1e-12


def _normalize_rows(vectors):
    squared_norm = ops.sum(ops.square(vectors), axis=-1, keepdims=True)
    return vectors * ops.rsqrt(ops.maximum(squared_norm, _SQUARED_NORM_EPSILON))


def info_nce(representations, predictions):
    """MMIM's CPC InfoNCE between representations and their predictions.

    Both arguments are embeddings (not `(y_true, y_pred)` labels): row `i`
    of `representations` (`h_m`, a unimodal vector) and row `i` of
    `predictions` (`G(Z)`, its prediction from the fusion result) form the
    positive pair; the other rows of the batch are the negatives.

    Rows are L2-normalised (paper eq. 10; a floor of 1e-12 on the squared
    norm keeps zero rows finite, the official code has none) and
    `S_ij = h̄_i · p̄_j`. With no temperature, the value for sample `i` is

        `-(S_ii - logsumexp_j S_ij)`.

    DECISION (`docs/building_blocks.md`): the log-sum-exp runs over the
    predictions
    `j` for a fixed representation `i`, as in the official `CPC.forward`
    (`logsumexp(x @ x_pred.T, dim=-1)`). The paper's eq. 11 normalises over
    representations for a fixed prediction, which is the transpose
    (`logsumexp_j S_ji`); the two differ unless `S` is symmetric. The mean
    over samples is MMIM's `L_N(Z, h_m)`; `L_CPC` (eq. 12) sums it over
    modalities.

    Args:
        representations: float `(batch, dim)`. The true vectors `h_m`.
        predictions: float `(batch, dim)`. The predictions `G(Z)`.

    Returns:
        float `(batch,)`, one value per sample.

    Reference:
        Han et al., "Improving Multimodal Fusion with Hierarchical Mutual
        Information Maximization for Multimodal Sentiment Analysis",
        EMNLP 2021, https://arxiv.org/abs/2109.00412
    """
    # float32 under mixed precision: log-sum-exp over the batch.
    representations = loss_precision.at_least_float32(representations)
    predictions = loss_precision.at_least_float32(predictions)
    representations = _normalize_rows(representations)
    predictions = _normalize_rows(predictions)
    scores = ops.matmul(representations, ops.transpose(predictions))
    positive = ops.sum(representations * predictions, axis=-1)
    return -(positive - ops.logsumexp(scores, axis=-1))


@keras.saving.register_keras_serializable(package="msakeras")
class InfoNCE(keras.losses.Loss):
    """MMIM's CPC InfoNCE; call as `loss(representations, predictions)`.

    Both arguments are embeddings, not `(y_true, y_pred)` labels:
    `representations` are the true unimodal vectors `h_m` `(batch, dim)`
    and `predictions` are `G(Z)` `(batch, dim)` from a `CPCPredictor`.
    Wraps `msakeras.losses.info_nce` (no temperature; log-sum-exp over the
    predictions for a fixed representation, the transpose of the paper's
    eq. 11, `docs/building_blocks.md` DECISION); the reduction and
    `sample_weight`
    apply to its per-sample values. With the default reduction this is
    MMIM's `L_N(Z, h_m)`. Values grow with the batch size (more negatives),
    so compare them only at equal batch size.

    Args:
        reduction: str. Keras loss reduction. Defaults to
            `"sum_over_batch_size"` (the official mean).
        name: str. Defaults to `"info_nce"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    predictor = msakeras.layers.CPCPredictor(output_dim=16)
    loss = msakeras.losses.InfoNCE()
    value = loss(visual_embedding, predictor(fused_embedding))
    ```

    Reference:
        Han et al., EMNLP 2021, eqs. 10-12,
        https://arxiv.org/abs/2109.00412
    """

    def __init__(
        self, reduction="sum_over_batch_size", name="info_nce", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, representations, predictions):
        return info_nce(representations, predictions)

    def get_config(self):
        return super().get_config()

"""KL divergence of a diagonal Gaussian from the standard normal (VIB)."""

import keras
from keras import ops

from msakeras.losses import loss_precision

# Floor on σ inside the logarithm: σ = softplus(·) can underflow to 0.
_SCALE_EPSILON = 1e-8


def gaussian_kl(mean, scale):
    """`KL(N(μ, diag σ²) ‖ N(0, I))` per sample, averaged over dimensions.

    Both arguments are the encoder's outputs, not `(y_true, y_pred)`. The
    value is MIB's form (`cmib.py`, `docs/building_blocks.md`):
    `½ · mean_dims(μ² + σ² − 2 log σ − 1)`; averaging it over the batch
    gives MIB's `KL` exactly (a mean over both batch and dims, not the
    textbook sum over dims).

    Args:
        mean: float `(batch, dim)`. `μ`.
        scale: float `(batch, dim)`. `σ > 0` (a standard deviation, not a
            log-variance).

    Returns:
        float `(batch,)`.
    """
    # float32 under mixed precision (the log and squares lose in 16 bits).
    mean = loss_precision.at_least_float32(mean)
    scale = loss_precision.at_least_float32(scale)
    log_scale = ops.log(ops.maximum(scale, _SCALE_EPSILON))
    terms = ops.square(mean) + ops.square(scale) - 2.0 * log_scale - 1.0
    return 0.5 * ops.mean(terms, axis=-1)


@keras.saving.register_keras_serializable(package="msakeras")
class GaussianKL(keras.losses.Loss):
    """Gaussian KL to `N(0, I)`. Call as `loss(mean, scale)` (μ and σ).

    See `gaussian_kl`; the default reduction averages over the batch.
    """

    def __init__(
        self, reduction="sum_over_batch_size", name="gaussian_kl", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, mean, scale):
        return gaussian_kl(mean, scale)

"""Binary cross-entropy of a modality discriminator (BBFN, MCER eq. 21)."""

import keras
from keras import ops

from msakeras.losses import loss_precision


def modality_discrimination(first_logits, second_logits):
    """Discriminator BCE: items of the first modality are class 0.

    Both arguments are logits of the same discriminator, not
    `(y_true, y_pred)`: `first_logits` scores the first modality's control
    vectors (target 0), `second_logits` the second's (target 1). BBFN
    applies a sigmoid and `BCELoss` to the `2B` stacked items; per sample
    this is the mean of the two terms,
    `½ [−log(1 − σ(l_first)) − log σ(l_second)]
     = ½ [softplus(l_first) + softplus(−l_second)]`,
    written with softplus for stability. The batch mean equals BBFN's mean
    over the `2B` items (MCER eq. 21).

    Args:
        first_logits: float `(batch,)` or `(batch, 1)`.
        second_logits: float, the same shape.

    Returns:
        float `(batch,)`.
    """
    first = ops.reshape(loss_precision.at_least_float32(first_logits), (-1,))
    second = ops.reshape(loss_precision.at_least_float32(second_logits), (-1,))
    return 0.5 * (ops.softplus(first) + ops.softplus(-second))


@keras.saving.register_keras_serializable(package="msakeras")
class ModalityDiscrimination(keras.losses.Loss):
    """Discriminator BCE. Call as `loss(first_logits, second_logits)`.

    See `modality_discrimination`.
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="modality_discrimination",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, first_logits, second_logits):
        return modality_discrimination(first_logits, second_logits)

"""`MaximizeOutput`: the loss of MMIM's stage one."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class MaximizeOutput(keras.losses.Loss):
    """Loss `−y_pred`: maximises a model output (labels are ignored).

    Stage one of MMIM maximises the BA bound's log-likelihood
    `lld_tv + lld_ta` (Han et al., EMNLP 2021, §3.4 "Stage 1", eqs. 3–5;
    official code `stage=0`); the stage-one model outputs it per sample
    and is compiled with this loss.
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="maximize_output",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return -ops.reshape(y_pred, (ops.shape(y_pred)[0], -1))[:, 0]

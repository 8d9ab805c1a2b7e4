"""Mean over the valid steps of a right-padded sequence."""

import keras

from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class MaskedMeanPooling(explicit_mask_layer.ExplicitMaskLayer):
    """Mean over the valid steps of a right-padded sequence.

    Sums the steps where `mask` is 1 and divides by their count. Rows with
    no valid step give zeros (the count is clipped at 1), never NaN. Used
    where reference code averages the packed outputs of an RNN (BBFN's DIV
    encoder) or pools a sequence into one vector.

    Args:
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`, 1 = valid step. `None`
            averages every step. Keras implicit masks are not used.

    Returns:
        float `(batch, features)`.

    Example:

    ```python
    sequence = np.ones((2, 4, 3), "float32")
    mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], "int32")
    msakeras.layers.MaskedMeanPooling()(sequence, mask=mask)
    # [[1, 1, 1], [0, 0, 0]]
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669),
        code: https://github.com/declare-lab/BBFN
    """

    def call(self, inputs, mask=None):
        return sequence_ops.masked_mean(inputs, mask)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0],) + tuple(inputs_shape[2:])

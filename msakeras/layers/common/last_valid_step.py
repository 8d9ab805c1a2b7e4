"""The step at each row's last valid index of a right-padded sequence."""

import keras

from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class LastValidStep(explicit_mask_layer.ExplicitMaskLayer):
    """Gathers each row's last valid step (`length - 1`) from a sequence.

    With `return_sequences=True` RNN outputs this is the final state at the
    true length, what PyTorch's packed sequences return as `h_n`. The gather
    is a one-hot over time multiplied with the sequence and summed: faster
    than `mask=` for Keras RNNs under torch, and exportable to ONNX from
    torch (where `take_along_axis` fails). Rows with length 0 give zeros.

    Args:
        reverse: bool. If `True`, take step 0 of each non-empty row instead:
            where an RNN that ran backwards in time over the unreversed
            sequence ends. Defaults to `False`.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`, 1 = valid, right
            padded. `None` takes the last step (`reverse=False`) or step 0.

    Returns:
        float `(batch, features)`.

    Example:

    ```python
    sequence = np.arange(12, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 1, 1]], "int32")
    msakeras.layers.LastValidStep()(sequence, mask=mask)
    # [[2, 3], [10, 11]]
    ```

    Reference:
        [Yu et al., 2021, Self-MM `AuViSubNet`](https://arxiv.org/abs/2102.04830),
        code: https://github.com/thuiar/MMSA
    """

    def __init__(self, reverse=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(reverse, bool):
            raise ValueError(
                f"`reverse` must be a bool. Received: reverse={reverse!r}"
            )
        self.reverse = reverse

    def call(self, inputs, mask=None):
        return sequence_ops.gather_last_valid_step(inputs, mask, self.reverse)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0],) + tuple(inputs_shape[2:])

    def get_config(self):
        return {**super().get_config(), "reverse": self.reverse}

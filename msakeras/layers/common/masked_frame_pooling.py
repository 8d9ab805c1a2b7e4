"""Masked mean over non-overlapping windows of frames (shorter sequences)."""

import keras
from keras import ops

from msakeras.layers.common import explicit_mask_layer


@keras.saving.register_keras_serializable(package="msakeras")
class MaskedFramePooling(explicit_mask_layer.ExplicitMaskLayer):
    """Averages windows of `pool_size` frames over their valid frames.

    Shortens long right-padded frame sequences (MOSI audio 375, vision 500
    frames) before quadratic-cost blocks such as cross-modal attention:
    output step `j` is the mean of the valid frames of window `j`
    (`k` consecutive steps), and the output mask marks windows holding at least
    one valid frame (still right padded). Padded frames never change the
    output. Windows follow `"same"` pooling: when `steps` is not a
    multiple of `k`, the `ceil(steps / k)·k − steps` missing positions are
    split between both ends (the first window may hold fewer frames).
    `pool_size=1` returns the inputs (padded frames zeroed).

    Args:
        pool_size: int. Window length `k` (also the stride).
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float `(batch, steps, features)`.
        mask: optional int `(batch, steps)`, 1 = valid.

    Returns:
        dict with `"sequence"` `(batch, ceil(steps / k), features)` (zeros
        at empty windows) and `"mask"` int32 `(batch, ceil(steps / k))`.

    Example:

    ```python
    pooled = msakeras.layers.MaskedFramePooling(4)(audio, mask=audio_mask)
    pooled["sequence"], pooled["mask"]
    ```
    """

    def __init__(self, pool_size, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(
                f"`pool_size` must be a positive int; received {pool_size!r}."
            )
        self.pool_size = pool_size

    def call(self, inputs, mask=None):
        inputs = ops.convert_to_tensor(inputs)
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="int32")
        weights = ops.cast(mask, inputs.dtype)[:, :, None]
        if self.pool_size == 1:
            return {
                "sequence": inputs * weights,
                "mask": ops.cast(mask, "int32"),
            }
        # Both averages divide by the same window count, so their ratio is
        # the mean over valid frames whatever the padding convention.
        total = ops.average_pool(
            inputs * weights,
            self.pool_size,
            strides=self.pool_size,
            padding="same",
        )
        count = ops.average_pool(
            weights, self.pool_size, strides=self.pool_size, padding="same"
        )
        valid = count > 0
        sequence = ops.where(valid, total / ops.maximum(count, 1e-12), 0.0)
        return {
            "sequence": sequence,
            "mask": ops.cast(valid[:, :, 0], "int32"),
        }

    def compute_output_shape(self, inputs_shape):
        steps = inputs_shape[1]
        if steps is not None:
            steps = -(-steps // self.pool_size)
        return {
            "sequence": (inputs_shape[0], steps, inputs_shape[2]),
            "mask": (inputs_shape[0], steps),
        }

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}

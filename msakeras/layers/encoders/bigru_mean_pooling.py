"""Bidirectional GRU averaged over valid steps (BBFN's DIV encoder)."""

import keras

from msakeras import backend
from msakeras.layers.common import explicit_mask_layer
from msakeras.layers.common import sequence_ops


@keras.saving.register_keras_serializable(package="msakeras")
class BiGRUMeanPooling(explicit_mask_layer.ExplicitMaskLayer):
    """1-layer BiGRU, masked mean over valid steps, directions averaged.

    The control-vector encoder of BBFN's gated transformer layers ≥ 2 and
    of MCER eq. 11 (`x_s^i = avgpool(BiGRU_s^i(M_s^{i−1}))`,
    `docs/building_blocks.md`, `docs/models/mcer.md`): a bidirectional GRU with
    `units` per direction runs over
    the valid steps only (the backward direction reads each row's valid
    steps reversed, as PyTorch packed sequences), its outputs are averaged
    over the valid steps, and the forward and backward halves are
    averaged: `x = ½ (mean_t h_fwd,t + mean_t h_bwd,t)`.

    Args:
        units: int. GRU width per direction, the output width.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float `(batch, steps, features)`, right padded.
        mask: optional int or bool `(batch, steps)`, 1 = valid. Padded
            steps never change the output.

    Returns:
        float `(batch, units)`.

    Example:

    ```python
    control = msakeras.layers.BiGRUMeanPooling(8)(sequence, mask=mask)
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669),
        code: https://github.com/declare-lab/BBFN (`modules/encoders.py`).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(
                f"`units` must be a positive int; received {units!r}."
            )
        self.units = units
        self.forward_gru = keras.layers.GRU(
            units,
            return_sequences=True,
            dtype=backend.recurrent_dtype_policy(self.dtype_policy),
            name="forward_gru",
        )
        self.backward_gru = keras.layers.GRU(
            units,
            return_sequences=True,
            dtype=backend.recurrent_dtype_policy(self.dtype_policy),
            name="backward_gru",
        )

    def build(self, inputs_shape):
        if len(inputs_shape) != 3 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must be (batch, steps, features) with a known "
                f"width; received {inputs_shape}."
            )
        self.forward_gru.build(inputs_shape)
        self.backward_gru.build(inputs_shape)

    def call(self, inputs, mask=None, training=None):
        forward = backend.run_recurrent(
            self.forward_gru, inputs, training=training
        )
        # The mean over valid steps does not depend on their order, so the
        # backward outputs need not be reversed back.
        backward = backend.run_recurrent(
            self.backward_gru,
            sequence_ops.reverse_within_length(inputs, mask),
            training=training,
        )
        pooled = 0.5 * (
            sequence_ops.masked_mean(forward, mask)
            + sequence_ops.masked_mean(backward, mask)
        )
        # float32 from the recurrence under a mixed policy
        return keras.ops.cast(pooled, self.compute_dtype)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

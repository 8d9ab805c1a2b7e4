"""Modality discriminator of BBFN's DIV encoder (MCER eqs. 19–22)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class ModalityDiscriminator(keras.layers.Layer):
    """Scores which modality a control vector comes from (logits).

    BBFN's discriminator `D = Sigmoid(Linear_{4d→1}(ReLU(Linear_{d→4d}(x))))`
    (`docs/building_blocks.md`), applied to the control vectors of both
    modalities of
    a gated-transformer layer; the first modality is class 0, the second
    class 1. This layer returns the logits before the sigmoid; the BCE is
    `msakeras.losses.modality_discrimination` (same value, computed with
    softplus). No gradient reversal (BBFN has none).

    Args:
        hidden_dim: int or None. Hidden width; `None` = 4 × the input
            width (BBFN). Defaults to `None`.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        first: float `(batch, d)`. Control vectors of the first modality.
        second: float `(batch, d)`. Control vectors of the second modality.

    Returns:
        float `(batch, 2)`: logits of `first` (column 0) and `second`
        (column 1) being the second modality.

    Example:

    ```python
    logits = msakeras.layers.ModalityDiscriminator()(text_control,
                                                     audio_control)
    msakeras.losses.modality_discrimination(logits[:, 0], logits[:, 1])
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669),
        code: https://github.com/declare-lab/BBFN (`modules/encoders.py`).
    """

    def __init__(self, hidden_dim=None, **kwargs):
        super().__init__(**kwargs)
        if hidden_dim is not None and (
            not isinstance(hidden_dim, int) or hidden_dim < 1
        ):
            raise ValueError(
                f"`hidden_dim` must be None or a positive int; received "
                f"{hidden_dim!r}."
            )
        self.hidden_dim = hidden_dim
        self.output_dense = keras.layers.Dense(
            1, dtype=self.dtype_policy, name="output_dense"
        )

    def build(self, first_shape, second_shape):
        if first_shape[-1] is None or first_shape[-1] != second_shape[-1]:
            raise ValueError(
                "`first` and `second` must have the same known width; "
                f"received {first_shape} and {second_shape}."
            )
        hidden = self.hidden_dim or 4 * first_shape[-1]
        self.hidden_dense = keras.layers.Dense(
            hidden,
            activation="relu",
            dtype=self.dtype_policy,
            name="hidden_dense",
        )
        self.hidden_dense.build(first_shape)
        self.output_dense.build(tuple(first_shape[:-1]) + (hidden,))

    def call(self, first, second):
        return ops.concatenate(
            [
                self.output_dense(self.hidden_dense(first)),
                self.output_dense(self.hidden_dense(second)),
            ],
            axis=-1,
        )

    def compute_output_shape(self, first_shape, second_shape):
        return (first_shape[0], 2)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}

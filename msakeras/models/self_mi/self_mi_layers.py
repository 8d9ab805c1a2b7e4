"""Blocks used only by Self-MI (registered, not re-exported)."""

import keras
from keras import ops

from msakeras.layers.common import stop_gradient

# Self-MI stops `L_gen`'s gradient into `Z^m` (`docs/models/self_mi.md`
# DECISION).
StopGradient = stop_gradient.StopGradient

# Floor on the squared row norm: a zero row normalises to zero, not NaN.
_SQUARED_NORM_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="msakeras")
class GeneratedLabelHead(keras.layers.Layer):
    """ULG_MI's regression MLP `R^s` on a normalised CPC prediction.

    Self-MI passes "the CPC output" through a regression MLP to generate
    the unimodal label (paper §3.4, eq. 16). Reading (`docs/models/self_mi.md`,
    GAP/DECISION): the input is the CPC prediction `p^s = G^s(Z^m)`,
    L2-normalised as in the CPC score (`p̄^s = p^s / ‖p^s‖`), and
    `R^s = Linear(d_s → hidden_dim) – ReLU – Linear(hidden_dim → 1)`
    (GAP: sizes not given; `hidden_dim` defaults to `d_s`).

    Args:
        hidden_dim: int or None. Width of the hidden layer. Defaults to
            `None`: the input width `d_s`.

    Call arguments:
        prediction: float `(batch, d_s)`. The CPC prediction `G^s(Z^m)`.

    Returns:
        float `(batch, 1)`, the generated label `R^s(p̄^s)`.

    Reference:
        Nguyen et al., "Self-MI", PACLIC 37, 2023, §3.4, eq. 16.
    """

    def __init__(self, hidden_dim=None, **kwargs):
        super().__init__(**kwargs)
        if hidden_dim is not None and hidden_dim < 1:
            raise ValueError(
                f"`hidden_dim` must be positive or None; received {hidden_dim}."
            )
        self.hidden_dim = hidden_dim
        self.output_dense = keras.layers.Dense(
            1, dtype=self.dtype_policy, name="output_dense"
        )

    def build(self, prediction_shape):
        width = prediction_shape[-1]
        self.hidden_dense = keras.layers.Dense(
            self.hidden_dim or width,
            activation="relu",
            dtype=self.dtype_policy,
            name="hidden_dense",
        )
        self.hidden_dense.build(prediction_shape)
        self.output_dense.build(
            tuple(prediction_shape[:-1]) + (self.hidden_dim or width,)
        )
        self.built = True

    def call(self, prediction):
        squared_norm = ops.sum(ops.square(prediction), axis=-1, keepdims=True)
        normalised = prediction * ops.rsqrt(
            ops.maximum(squared_norm, _SQUARED_NORM_EPSILON)
        )
        return self.output_dense(self.hidden_dense(normalised))

    def compute_output_shape(self, prediction_shape):
        return tuple(prediction_shape[:-1]) + (1,)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}

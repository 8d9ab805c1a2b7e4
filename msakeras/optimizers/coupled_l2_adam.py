"""Adam with PyTorch's coupled L2 weight decay."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class CoupledL2Adam(keras.optimizers.Adam):
    """Adam with coupled L2 weight decay, as `torch.optim.Adam(weight_decay=)`.

    PyTorch's `Adam(weight_decay=λ)` adds `λ·w` to the gradient before the
    moment updates (coupled L2), after any gradient clipping done on the
    raw gradients. Keras's `Adam(weight_decay=...)` is decoupled (AdamW
    style). MMIM, Self-MM, Self-MI and MCER use the coupled form
    (`docs/building_blocks.md`), which this class reproduces: clipping
    (`clipnorm`, `global_clipnorm`) sees the raw gradients, then
    `l2_decay · w` is added, then PyTorch's Adam step.

    The step is torch's, not Keras's: with `m̂ = m / (1 − β1^t)` and
    `v̂ = v / (1 − β2^t)`, `w ← w − lr · m̂ / (√v̂ + ε)`, ε = 1e-8 added
    *after* the bias correction. Keras's `Adam` adds its ε (1e-7) to `√v`
    before the correction, which is torch's rule with a step-dependent
    `ε·√(1 − β2^t)`; the two differ most in the first steps and for small
    gradients. With `amsgrad=True`, `v̂` is the running maximum of `v`
    divided by `1 − β2^t`, as torch.
    Args:
        learning_rate: float or schedule. Defaults to `0.001`.
        l2_decay: float. The coupled L2 coefficient λ. Defaults to `0.0`.
        **kwargs: the arguments of `keras.optimizers.Adam`
            (`weight_decay`, the decoupled form, is refused to avoid mixing
            the two).

    Example:

    ```python
    optimizer = CoupledL2Adam(learning_rate=1e-3, l2_decay=1e-4)
    ```
    """

    def __init__(self, learning_rate=0.001, l2_decay=0.0, **kwargs):
        if kwargs.get("weight_decay"):
            raise ValueError(
                "CoupledL2Adam takes `l2_decay` (coupled, PyTorch Adam); "
                "received the decoupled `weight_decay="
                f"{kwargs['weight_decay']}`; use keras.optimizers.AdamW for "
                "decoupled decay."
            )
        if l2_decay < 0:
            raise ValueError(f"`l2_decay` must be >= 0; received {l2_decay}.")
        kwargs.setdefault("epsilon", 1e-8)  # torch.optim.Adam's default
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.l2_decay = l2_decay

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        if self.l2_decay:
            gradient = gradient + ops.cast(self.l2_decay, dtype) * variable
        local_step = ops.cast(self.iterations + 1, dtype)
        bias_correction_1 = 1 - ops.power(
            ops.cast(self.beta_1, dtype), local_step
        )
        bias_correction_2 = 1 - ops.power(
            ops.cast(self.beta_2, dtype), local_step
        )
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        self.assign_add(
            m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1)
        )
        self.assign_add(
            v,
            ops.multiply(
                ops.subtract(ops.square(gradient), v), 1 - self.beta_2
            ),
        )
        if self.amsgrad:
            v_max = self._velocity_hats[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max
        denominator = ops.add(
            ops.sqrt(ops.divide(v, bias_correction_2)),
            ops.cast(self.epsilon, dtype),
        )
        self.assign_sub(
            variable,
            ops.divide(ops.multiply(m, lr / bias_correction_1), denominator),
        )

    # The torch backend runs the step as multi-tensor kernels
    # (`msakeras.backend.torch_adam`, tested equal to `update_step`).
    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if keras.config.backend() == "torch" and trainable_variables:
            from msakeras.backend import torch_adam

            return torch_adam.update(
                self, grads, trainable_variables, learning_rate
            )
        return super()._backend_update_step(
            grads, trainable_variables, learning_rate
        )

    def _backend_increment_gradient_accumulators(self, grads, acc_grads):
        if keras.config.backend() == "torch":
            from msakeras.backend import torch_adam

            return torch_adam.increment_accumulators(grads, acc_grads)
        return super()._backend_increment_gradient_accumulators(
            grads, acc_grads
        )

    def _backend_reset_gradient_accumulators(self):
        if keras.config.backend() == "torch":
            from msakeras.backend import torch_adam

            return torch_adam.reset_accumulators(self._accumulated_gradients)
        return super()._backend_reset_gradient_accumulators()

    def get_config(self):
        return {**super().get_config(), "l2_decay": self.l2_decay}

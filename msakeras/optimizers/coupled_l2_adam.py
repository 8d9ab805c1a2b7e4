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
    (models.md §3.9), which this class reproduces: clipping (`clipnorm`,
    `global_clipnorm`) sees the raw gradients, then `l2_decay · w` is
    added, then the usual Adam step.

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
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.l2_decay = l2_decay

    def update_step(self, gradient, variable, learning_rate):
        if self.l2_decay:
            gradient = gradient + ops.cast(
                self.l2_decay, gradient.dtype
            ) * ops.cast(variable, gradient.dtype)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2_decay": self.l2_decay}

"""Gradients of a model's summed output, on whichever backend runs.

For tests that must see a gradient itself (is it zero past a stop?), not
only whether a weight moved after a step.
"""

import keras
import numpy as np


def gradients_of_sum(model, x):
    """`{variable.path: NumPy gradient}` of `sum(model(x))` per trainable
    variable (zeros where the backend reports no gradient)."""
    variables = model.trainable_variables
    trainable = [keras.ops.copy(v.value) for v in variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    backend = keras.config.backend()

    def total(values):
        outputs, _ = model.stateless_call(values, non_trainable, x)
        return keras.ops.sum(
            keras.ops.stack(
                [keras.ops.sum(t) for t in keras.tree.flatten(outputs)]
            )
        )

    if backend == "jax":
        import jax

        grads = jax.grad(total)(trainable)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(trainable)
            value = total(trainable)
        grads = tape.gradient(value, trainable)
    else:
        import torch

        trainable = [t.detach().clone().requires_grad_(True) for t in trainable]
        grads = torch.autograd.grad(
            total(trainable), trainable, allow_unused=True
        )
    return {
        variable.path: (
            np.zeros(variable.shape)
            if grad is None
            else keras.ops.convert_to_numpy(grad)
        )
        for variable, grad in zip(variables, grads)
    }

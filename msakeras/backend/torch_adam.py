"""torch fast path for `CoupledL2Adam` (documented backend exception).

Keras runs a custom optimizer's step one variable at a time: some fifteen
small ops per variable, and with `gradient_accumulation_steps` a new
tensor and a copy per variable at every accumulating step. For a
fine-tuned BERT (about 200 variables) that is thousands of dispatches per
step. torch's multi-tensor `_foreach_*` kernels do the same arithmetic on
every variable in a few calls, as `torch.optim.Adam(foreach=True)` and
Keras's own torch `Adam` do. The update is the generic one
(`CoupledL2Adam.update_step`): `g ← g + λ·w`,
`m ← m + (g − m)(1 − β1)`, `v ← v + (g² − v)(1 − β2)`,
`w ← w − lr/(1 − β1^t) · m / (√(v/(1 − β2^t)) + ε)`.
"""

import torch


def _values(variables):
    return [variable.value for variable in variables]


@torch.no_grad()
def update(optimizer, grads, variables, learning_rate):
    """One `CoupledL2Adam` step over `variables` (float tensors)."""
    values = _values(variables)
    dtype = values[0].dtype
    grads = [grad.to(dtype) for grad in grads]
    if optimizer.l2_decay:
        grads = torch._foreach_add(grads, values, alpha=optimizer.l2_decay)
    iterations = optimizer.iterations  # a variable, or its tensor
    step = getattr(iterations, "value", iterations).to(dtype) + 1

    def scalar(value):
        value = getattr(value, "value", value)  # a Keras variable
        return torch.as_tensor(value, dtype=dtype, device=step.device)

    lr = scalar(learning_rate)
    bias_correction_1 = 1 - torch.pow(scalar(optimizer.beta_1), step)
    bias_correction_2 = 1 - torch.pow(scalar(optimizer.beta_2), step)
    indices = [optimizer._get_variable_index(v) for v in variables]
    moments = [optimizer._momentums[i].value for i in indices]
    velocities = [optimizer._velocities[i].value for i in indices]
    # m + (g − m)(1 − β1): the generic step's form, same rounding.
    torch._foreach_add_(
        moments,
        torch._foreach_mul(
            torch._foreach_sub(grads, moments), 1 - optimizer.beta_1
        ),
    )
    squares = torch._foreach_mul(grads, grads)
    torch._foreach_add_(
        velocities,
        torch._foreach_mul(
            torch._foreach_sub(squares, velocities), 1 - optimizer.beta_2
        ),
    )
    if optimizer.amsgrad:
        maxima = [optimizer._velocity_hats[i].value for i in indices]
        torch._foreach_maximum_(maxima, velocities)
        velocities = maxima
    denominators = torch._foreach_div(velocities, bias_correction_2)
    torch._foreach_sqrt_(denominators)
    torch._foreach_add_(denominators, optimizer.epsilon)
    updates = torch._foreach_mul(moments, lr / bias_correction_1)
    torch._foreach_div_(updates, denominators)
    torch._foreach_sub_(values, updates)


@torch.no_grad()
def increment_accumulators(grads, accumulators):
    """`accumulator ← accumulator + grad`, in place, for every variable."""
    values = _values(accumulators)
    torch._foreach_add_(
        values, [grad.to(value.dtype) for grad, value in zip(grads, values)]
    )


@torch.no_grad()
def reset_accumulators(accumulators):
    torch._foreach_zero_(_values([a for a in accumulators if a is not None]))

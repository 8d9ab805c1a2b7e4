"""Mask helpers for right-padded sequences (plain functions, `keras.ops`).

Masks are explicit `(batch, steps)` int or bool tensors, 1 = real step,
right padded. Gathers along time are one-hot products rather than
`take_along_axis`, because ONNX export from torch fails on the latter.
"""

from keras import ops


def lengths_from_mask(mask):
    """Number of valid steps per row of a right-padded mask.

    Args:
        mask: int or bool `(batch, steps)`, 1 = valid.

    Returns:
        int32 `(batch,)`.
    """
    return ops.sum(ops.cast(ops.cast(mask, "bool"), "int32"), axis=1)


def masked_mean(inputs, mask=None):
    """Mean over the valid steps of `(batch, steps, ...)` inputs.

    Rows without a valid step give zeros, not NaN.

    Args:
        inputs: float `(batch, steps, ...)`.
        mask: optional int or bool `(batch, steps)`; `None` = all valid.

    Returns:
        `(batch, ...)`, the dtype of `inputs`.
    """
    inputs = ops.convert_to_tensor(inputs)
    if mask is None:
        return ops.mean(inputs, axis=1)
    weights = ops.cast(mask, inputs.dtype)
    for _ in range(len(inputs.shape) - 2):
        weights = ops.expand_dims(weights, axis=-1)
    total = ops.sum(inputs * weights, axis=1)
    count = ops.maximum(ops.sum(weights, axis=1), 1.0)
    return total / count


def gather_last_valid_step(inputs, mask=None, reverse=False):
    """The step at index `length - 1` (or 0 with `reverse=True`) per row.

    Rows with length 0 give zeros. The gather is a one-hot over time,
    multiplied with `inputs` and summed (ONNX-exportable from torch).

    Args:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`, right padded; `None`
            = all valid.
        reverse: bool. If `True`, take step 0 of each non-empty row instead:
            where an RNN that ran backwards in time ends.

    Returns:
        `(batch, features)`.
    """
    inputs = ops.convert_to_tensor(inputs)
    steps = ops.shape(inputs)[1]
    time = ops.arange(steps, dtype="int32")[None, :]
    if mask is None:
        batch = ops.shape(inputs)[0]
        lengths = ops.full((batch,), steps, dtype="int32")
    else:
        lengths = lengths_from_mask(mask)
    lengths = lengths[:, None]
    if reverse:
        selector = ops.logical_and(ops.equal(time, 0), lengths > 0)
    else:
        selector = ops.equal(time, lengths - 1)
    selector = ops.cast(selector, inputs.dtype)[:, :, None]
    return ops.sum(inputs * selector, axis=1)


def reverse_within_length(inputs, mask=None):
    """Reverses each row's valid steps in place; padded steps become zeros.

    `output[b, t] = inputs[b, length_b - 1 - t]` for `t < length_b`, else 0.
    Applying it twice gives back the valid steps, so running an RNN forwards
    over the reversed sequence and reversing its outputs again is the
    backward direction of a bidirectional RNN that only reads valid frames
    (PyTorch packed sequences). The gather is a `(batch, steps, steps)`
    one-hot permutation matrix product (ONNX-exportable from torch).

    Args:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`, right padded; `None`
            = all valid (a plain flip over time).

    Returns:
        `(batch, steps, features)`.
    """
    inputs = ops.convert_to_tensor(inputs)
    if mask is None:
        return ops.flip(inputs, axis=1)
    steps = ops.shape(inputs)[1]
    lengths = lengths_from_mask(mask)[:, None, None]
    target = ops.arange(steps, dtype="int32")[None, :, None]
    source = ops.arange(steps, dtype="int32")[None, None, :]
    permutation = ops.logical_and(
        ops.equal(source, lengths - 1 - target), target < lengths
    )
    return ops.matmul(ops.cast(permutation, inputs.dtype), inputs)


def key_padding_attention_mask(query, context_mask):
    """`(batch, query_steps, context_steps)` bool mask from a key padding mask.

    `output[b, i, j] = context_mask[b, j]`: every query step may attend to
    the valid context steps only. The expansion over query steps is a
    broadcast (`logical_and` with ones shaped like the query), not
    `ops.repeat`: under torch, `repeat` becomes `repeat_interleave`, whose
    output size is data-dependent and stops `torch.export` (ONNX export).

    Args:
        query: `(batch, query_steps, ...)`; only its shape is read.
        context_mask: int or bool `(batch, context_steps)`, 1 = valid.

    Returns:
        bool `(batch, query_steps, context_steps)`.
    """
    keys = ops.cast(context_mask, "bool")[:, None, :]
    return ops.logical_and(keys, ops.ones_like(query[:, :, :1], dtype="bool"))


def zero_padded_steps(inputs, mask=None):
    """`inputs` with the padded steps set to 0 (unchanged if `mask` is None).

    Args:
        inputs: float `(batch, steps, features)`.
        mask: optional int or bool `(batch, steps)`.

    Returns:
        `(batch, steps, features)`.
    """
    inputs = ops.convert_to_tensor(inputs)
    if mask is None:
        return inputs
    return inputs * ops.cast(mask, inputs.dtype)[:, :, None]

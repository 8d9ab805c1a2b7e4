"""`at_least_float32`: loss maths in float32 under mixed precision."""

from keras import backend
from keras import ops


def at_least_float32(value):
    """`value` as a float tensor of at least 32 bits.

    Under a `mixed_float16` / `mixed_bfloat16` policy layers compute in 16
    bits; the log-sum-exp, exponentials and log-determinants of the
    objectives lose too much there (bfloat16 keeps 8 significant bits), so
    every loss upcasts its inputs with this first. float64 stays float64;
    integer and bool inputs become float32.
    """
    value = ops.convert_to_tensor(value)
    dtype = backend.standardize_dtype(value.dtype)
    if dtype in ("float32", "float64"):
        return value
    return ops.cast(value, "float32")

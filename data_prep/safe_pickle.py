"""A restricted unpickler for third-party feature pickles.

Unpickling runs any callable the file names, so converters never call
`pickle.load`, `pandas.read_pickle` or `np.load(allow_pickle=True)` on a
release. `SafeUnpickler` resolves only the globals NumPy needs to rebuild
arrays, dtypes and scalars (under both the NumPy 1.x `numpy.core` and the
NumPy 2 `numpy._core` names) and `_codecs.encode`, which protocol-2 pickles
use for `bytes`. Dicts, lists, tuples, strings and numbers are built by
pickle opcodes and never reach `find_class`. Any other global is refused
with `pickle.UnpicklingError` naming `module.name`; it is neither imported
nor called (see `docs/protocol.md`).
The allowlist mechanism and the file-naming errors are shared with
`msakeras.convert_mmsa` (`msakeras.data.restricted_unpickler`).
"""

import io
import os
import pickle

from msakeras.data import restricted_unpickler

ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }
)
"""(module, name) pairs the unpickler resolves; NumPy 1.x names map here."""

# NumPy 2 also accepts the old `numpy.core` names; pickles written by
# NumPy 1.x name them, so they are mapped to `numpy._core` before the check.
_OLD_NUMPY_PREFIX = "numpy.core"
_NEW_NUMPY_PREFIX = "numpy._core"


def _canonical_module(module):
    if module == _OLD_NUMPY_PREFIX or module.startswith(
        _OLD_NUMPY_PREFIX + "."
    ):
        return _NEW_NUMPY_PREFIX + module[len(_OLD_NUMPY_PREFIX) :]
    return module


def _refuse(message):
    raise pickle.UnpicklingError(
        f"{restricted_unpickler.REFUSAL_PREFIX} array: {message}"
    )


def _bounded_ndarray(
    shape, dtype=float, buffer=None, offset=0, strides=None, order=None
):
    """`numpy.ndarray(...)` as a pickle may call it, bounded.

    The array must be backed by bytes present in the pickle: shape x
    itemsize (and the furthest strided byte) within `len(buffer) - offset`,
    strides positive; without a buffer only empty arrays are built.
    """
    import numpy as np

    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = np.dtype(dtype)
    if any(not isinstance(size, int) or size < 0 for size in shape):
        _refuse(f"shape {shape} is not a tuple of non-negative ints.")
    count = 1
    for size in shape:
        count *= size
    nbytes = count * dtype.itemsize
    if buffer is None:
        if nbytes:
            _refuse(
                f"shape {shape} x itemsize {dtype.itemsize} = {nbytes} "
                "bytes with no data in the pickle."
            )
        return np.ndarray(shape, dtype, order=order)
    present = memoryview(buffer).nbytes - int(offset)
    if offset < 0 or nbytes > present:
        _refuse(
            f"shape {shape} x itemsize {dtype.itemsize} = {nbytes} bytes, "
            f"but only {max(present, 0)} are present."
        )
    if strides is not None:
        strides = tuple(strides)
        if len(strides) != len(shape) or any(
            not isinstance(step, int) or step <= 0 for step in strides
        ):
            _refuse(f"strides {strides} must be positive, one per axis.")
        if (
            count
            and sum((n - 1) * step for n, step in zip(shape, strides))
            + (dtype.itemsize)
            > present
        ):
            _refuse(f"strides {strides} reach past the bytes present.")
    return np.ndarray(shape, dtype, buffer, offset, strides, order)


def _bounded_reconstruct(subtype, shape, dtype):
    """`_reconstruct` as NumPy pickles use it: an empty base array that
    `__setstate__` then fills from the pickle's own bytes."""
    import numpy as np

    if subtype is not _bounded_ndarray and subtype is not np.ndarray:
        _refuse(f"subtype {subtype!r} is not numpy.ndarray.")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = 1
    for size in shape:
        count *= int(size)
    if count > 1:
        _refuse(f"base shape {shape} is not empty.")
    from numpy._core import multiarray

    return multiarray._reconstruct(np.ndarray, shape, dtype)


_CODECS = frozenset({"latin1", "latin-1", "latin_1", "iso-8859-1"})


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """`_codecs.encode` for the latin-1 `bytes` of protocol-2 pickles."""
    import codecs

    if str(encoding).lower() not in _CODECS:
        raise pickle.UnpicklingError(
            f"{restricted_unpickler.REFUSAL_PREFIX} codec {encoding!r} in "
            "_codecs.encode: only latin-1 "
            "(how protocol-2 pickles store bytes) is accepted."
        )
    return codecs.encode(text, "latin1", errors)


_GUARDED = {
    ("numpy", "ndarray"): _bounded_ndarray,
    ("numpy._core.multiarray", "_reconstruct"): _bounded_reconstruct,
    ("_codecs", "encode"): _latin1_encode,
}


class SafeUnpickler(restricted_unpickler.RestrictedUnpickler):
    """`RestrictedUnpickler` that only admits NumPy arrays, dtypes, scalars.

    Example:

    ```python
    with open("unaligned_50.pkl", "rb") as file:
        data = SafeUnpickler(file).load()
    ```
    """

    # Guarded names resolve to their bounded builders; the rest are
    # imported on use.
    allowed_globals = {key: _GUARDED.get(key) for key in ALLOWED_GLOBALS}
    refusal_reason = (
        "only pickles of NumPy arrays, dicts, lists, strings and numbers "
        "are accepted (the file may be malicious or not a feature release)."
    )
    canonical_module = staticmethod(_canonical_module)


def loads(data):
    """Unpickles bytes with `SafeUnpickler`.

    Args:
        data: bytes. A pickle.

    Returns:
        The unpickled object.
    """
    return SafeUnpickler(io.BytesIO(data)).load()


def load_pickle(path):
    """Loads a pickle file with `SafeUnpickler`, with errors naming the file.

    Args:
        path: str or path-like. The pickle.

    Returns:
        The unpickled object (plain containers and NumPy arrays).

    Raises:
        FileNotFoundError: the file does not exist.
        pickle.UnpicklingError: the file names a refused global; the
            message names the file and `module.name`.
        ValueError: the file is truncated or not a pickle.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Input file '{path}' does not exist.")
    with open(path, "rb") as file:
        with restricted_unpickler.errors_naming(path):
            return SafeUnpickler(file).load()

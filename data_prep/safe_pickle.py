"""A restricted unpickler for third-party feature pickles.

Unpickling runs any callable the file names, so converters never call
`pickle.load`, `pandas.read_pickle` or `np.load(allow_pickle=True)` on a
release. `SafeUnpickler` resolves only the globals NumPy needs to rebuild
arrays, dtypes and scalars (under both the NumPy 1.x `numpy.core` and the
NumPy 2 `numpy._core` names) and `_codecs.encode`, which protocol-2 pickles
use for `bytes`. Dicts, lists, tuples, strings and numbers are built by
pickle opcodes and never reach `find_class`. Any other global is refused
with `pickle.UnpicklingError` naming `module.name`; it is neither imported
nor called (see `specs/data-formats.md` §1, `specs/architecture.md` §9.4).
The allowlist mechanism and the file-naming errors are shared with
`msakeras.convert_mmsa` (`msakeras.data.restricted_unpickler`).
"""

import io
import os

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


class SafeUnpickler(restricted_unpickler.RestrictedUnpickler):
    """`RestrictedUnpickler` that only admits NumPy arrays, dtypes, scalars.

    Example:

    ```python
    with open("unaligned_50.pkl", "rb") as file:
        data = SafeUnpickler(file).load()
    ```
    """

    allowed_globals = dict.fromkeys(ALLOWED_GLOBALS)  # imported on use
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

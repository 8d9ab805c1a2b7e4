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
"""

import importlib
import io
import os
import pickle

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


class SafeUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` that only admits NumPy arrays, dtypes and scalars.

    Example:

    ```python
    with open("unaligned_50.pkl", "rb") as file:
        data = SafeUnpickler(file).load()
    ```
    """

    def find_class(self, module, name):
        canonical = _canonical_module(module)
        if (canonical, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"Refusing to load global '{module}.{name}': only pickles of "
                "NumPy arrays, dicts, lists, strings and numbers are "
                "accepted (the file may be malicious or not a feature "
                "release)."
            )
        return getattr(importlib.import_module(canonical), name)


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
        try:
            return SafeUnpickler(file).load()
        except pickle.UnpicklingError as error:
            message = str(error)
            if message.startswith("Refusing"):
                raise pickle.UnpicklingError(
                    f"File '{path}': {message}"
                ) from None
            raise ValueError(
                f"File '{path}' is not a readable pickle (truncated or "
                f"corrupt?): {message}"
            ) from None
        except (EOFError, ValueError, TypeError, IndexError) as error:
            raise ValueError(
                f"File '{path}' is not a readable pickle (truncated or "
                f"corrupt?): {type(error).__name__}: {error}"
            ) from None
        except (AttributeError, ImportError, KeyError) as error:
            raise ValueError(
                f"File '{path}' could not be unpickled: "
                f"{type(error).__name__}: {error}"
            ) from None

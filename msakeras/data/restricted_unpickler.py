"""`RestrictedUnpickler`: unpickling that resolves only an allowlist.

Unpickling runs any callable the file names, so files from outside (feature
pickles, PyTorch checkpoints) are never read with `pickle.load`. A
`RestrictedUnpickler` resolves only the `(module, name)` globals of its
allowlist; any other global is refused with `pickle.UnpicklingError`
naming `module.name`, before it is imported or called. Dicts, lists,
tuples, strings and numbers are built by pickle opcodes and never reach
`find_class`. `data_prep/safe_pickle.py` (NumPy feature pickles) and
`msakeras.convert_mmsa` (PyTorch `.pth` state dicts, without torch) build
on it.
"""

import contextlib
import importlib
import os
import pickle

REFUSAL_PREFIX = "Refusing"
"""How every refusal (a global, a bounded array, a codec) begins."""


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` that resolves only `allowed_globals`.

    Subclasses set `allowed_globals`, a mapping `(module, name) -> object`
    (the object `find_class` returns; `None` imports `module.name`), and
    `refusal_reason`, the sentence that follows the refused name. They may
    override `canonical_module` to map aliases (e.g. NumPy 1.x module
    names) before the check.

    Example:

    ```python
    class DictsOnly(RestrictedUnpickler):
        allowed_globals = {("collections", "OrderedDict"): None}
        refusal_reason = "only dicts are accepted."

    with open("file.pkl", "rb") as file:
        data = DictsOnly(file).load()
    ```
    """

    allowed_globals = {}
    refusal_reason = "the file may be malicious."

    @staticmethod
    def canonical_module(module):
        """The module name the allowlist is keyed by (identity here)."""
        return module

    def find_class(self, module, name):
        canonical = self.canonical_module(module)
        key = (canonical, name)
        if key not in self.allowed_globals:
            raise pickle.UnpicklingError(
                f"{REFUSAL_PREFIX} to load global '{module}.{name}': "
                f"{self.refusal_reason}"
            )
        resolved = self.allowed_globals[key]
        if resolved is None:
            return getattr(importlib.import_module(canonical), name)
        return resolved


@contextlib.contextmanager
def errors_naming(path, what="pickle"):
    """Re-raises unpickling errors with the file's name, one per kind.

    A refusal (a global, an unbounded array) stays a
    `pickle.UnpicklingError` (message prefixed with the file); a truncated
    or corrupt stream becomes a `ValueError`.

    Args:
        path: str. The file being read (for messages).
        what: str. What the file should be ("pickle", "PyTorch
            checkpoint").
    """
    path = os.fspath(path)
    try:
        yield
    except pickle.UnpicklingError as error:
        message = str(error)
        if message.startswith(REFUSAL_PREFIX):
            raise pickle.UnpicklingError(f"File '{path}': {message}") from None
        raise ValueError(
            f"File '{path}' is not a readable {what} (truncated or "
            f"corrupt?): {message}"
        ) from None
    except (EOFError, ValueError, TypeError, IndexError) as error:
        raise ValueError(
            f"File '{path}' is not a readable {what} (truncated or "
            f"corrupt?): {type(error).__name__}: {error}"
        ) from None
    except (AttributeError, ImportError, KeyError) as error:
        raise ValueError(
            f"File '{path}' could not be unpickled: "
            f"{type(error).__name__}: {error}"
        ) from None

"""Keep TensorFlow out of a process that trains under torch or JAX.

keras-hub imports TensorFlow (and tensorflow-text) whenever they are
installed, so `import msakeras` under the torch or JAX backend pulls in
TensorFlow although nothing in that process uses it: measured on the 2-core
CI machine, importing `msakeras` under torch peaked at 1.29 GB resident
with TensorFlow and 0.63 GB without it, and took 10.6 s instead of 7.0 s.
Export, the one step that needs TensorFlow under another backend, runs in
a child process (`msakeras.export`).

The guard is opt-in for the process, never a side effect of importing the
library into someone else's program: the recipes set
`MSAKERAS_KEEP_TENSORFLOW_OUT=1` before importing `msakeras`, and
`msakeras/__init__.py` applies it. Under it `import tensorflow` raises
`ImportError` (keras-hub treats TensorFlow as absent); `allow_tensorflow()`
lifts it again (TensorBoard logs, which Keras writes through `tf.summary`).
Under torch the same guard keeps JAX out too: Keras imports `jax` from
`keras/src/callbacks/orbax_checkpoint.py` whenever it is installed (an
`ImportError` is handled there), which cost about 110 MB of resident
memory in a torch run that never uses it (import peak 644 -> 532 MB).
This module imports only the standard library.
"""

import os
import sys

ENVIRONMENT_VARIABLE = "MSAKERAS_KEEP_TENSORFLOW_OUT"
_MODULES = ("tensorflow", "tensorflow_text")
# Kept out of a torch process as well (nothing under torch uses JAX).
_JAX_MODULES = ("jax", "jaxlib")


def _keras_backend():
    backend = os.environ.get("KERAS_BACKEND")
    if backend:
        return backend
    import keras  # reads ~/.keras/keras.json; imports no backend library

    return keras.config.backend()


def keep_tensorflow_out_if_requested():
    """Blocks `import tensorflow` (and, under torch, `import jax`) when the
    environment asks for it.

    Applies when `MSAKERAS_KEEP_TENSORFLOW_OUT=1`, the Keras backend is not
    TensorFlow, and TensorFlow is not imported yet.

    Returns:
        bool: whether TensorFlow is now blocked.
    """
    if os.environ.get(ENVIRONMENT_VARIABLE) != "1":
        return False
    backend = _keras_backend()
    if backend == "tensorflow":
        return False
    if backend == "torch" and sys.modules.get("jax") is None:
        for name in _JAX_MODULES:
            sys.modules[name] = None
    if sys.modules.get("tensorflow") is not None:
        return False  # already imported by the caller: nothing to save
    for name in _MODULES:
        sys.modules[name] = None  # `import name` raises ImportError
    return True


def tensorflow_blocked():
    """Whether `keep_tensorflow_out_if_requested` blocked TensorFlow."""
    return "tensorflow" in sys.modules and sys.modules["tensorflow"] is None


def allow_tensorflow():
    """Lifts the block: the next `import tensorflow` loads it."""
    for name in _MODULES:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]

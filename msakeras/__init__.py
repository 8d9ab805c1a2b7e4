"""msakeras: Keras 3 toolkit for multimodal sentiment analysis.

Importing `msakeras` registers every public layer, loss, optimizer and model
(package `msakeras`), so `keras.models.load_model` can revive `.keras` files.
`msakeras.export` (TensorFlow-only) is imported on demand.
Under torch or JAX, `MSAKERAS_KEEP_TENSORFLOW_OUT=1` (set by the recipes)
keeps TensorFlow out of the process; see `msakeras.backend.tensorflow_guard`.
"""

from msakeras.backend import tensorflow_guard as _tensorflow_guard

_tensorflow_guard.keep_tensorflow_out_if_requested()

from msakeras import callbacks  # noqa: E402
from msakeras import data  # noqa: E402
from msakeras import experiment  # noqa: E402
from msakeras import layers  # noqa: E402
from msakeras import losses  # noqa: E402
from msakeras import metrics  # noqa: E402
from msakeras import models  # noqa: E402
from msakeras import optimizers  # noqa: E402

__version__ = "0.1.0"

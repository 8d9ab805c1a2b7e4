"""msakeras: Keras 3 toolkit for multimodal sentiment analysis.

Importing `msakeras` registers every public layer, loss, optimizer and model
(package `msakeras`), so `keras.models.load_model` can revive `.keras` files.
`msakeras.export` (TensorFlow-only) is imported on demand.
"""

from msakeras import callbacks
from msakeras import data
from msakeras import experiment
from msakeras import layers
from msakeras import losses
from msakeras import metrics
from msakeras import models
from msakeras import optimizers

__version__ = "0.1.0"

"""Reusable Keras layers, sorted by role (one public class per file)."""

from msakeras.layers.bottleneck import *
from msakeras.layers.common import *
from msakeras.layers.encoders import *
from msakeras.layers.estimators import *
from msakeras.layers.fusion import *
from msakeras.layers.state import *

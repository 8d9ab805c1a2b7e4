"""msakeras.layers.estimators."""

from msakeras.layers.estimators.cpc_predictor import CPCPredictor
from msakeras.layers.estimators.mmilb import MMILB

__all__ = ["CPCPredictor", "MMILB"]

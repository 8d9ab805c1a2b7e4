"""msakeras.layers.estimators."""

from msakeras.layers.estimators.cpc_predictor import CPCPredictor
from msakeras.layers.estimators.mmilb import MMILB
from msakeras.layers.estimators.modality_discriminator import (
    ModalityDiscriminator,
)

__all__ = ["CPCPredictor", "MMILB", "ModalityDiscriminator"]

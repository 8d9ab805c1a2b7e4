"""msakeras.layers.estimators."""

from msakeras.layers.estimators.barber_agakov_bound import BarberAgakovBound
from msakeras.layers.estimators.cpc_predictor import CPCPredictor
from msakeras.layers.estimators.mmilb import MMILB
from msakeras.layers.estimators.modality_discriminator import (
    ModalityDiscriminator,
)

__all__ = [
    "BarberAgakovBound",
    "CPCPredictor",
    "MMILB",
    "ModalityDiscriminator",
]

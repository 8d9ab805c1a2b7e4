"""msakeras.layers.common: shared sequence layers and mask helpers."""

from msakeras.layers.common.last_valid_step import LastValidStep
from msakeras.layers.common.masked_frame_pooling import MaskedFramePooling
from msakeras.layers.common.masked_mean_pooling import MaskedMeanPooling
from msakeras.layers.common.sequence_ops import gather_last_valid_step
from msakeras.layers.common.sequence_ops import lengths_from_mask
from msakeras.layers.common.sequence_ops import masked_mean
from msakeras.layers.common.sequence_ops import reverse_within_length
from msakeras.layers.common.sequence_ops import zero_padded_steps
from msakeras.layers.common.sinusoidal_position_embedding import (
    SinusoidalPositionEmbedding,
)
from msakeras.layers.common.stop_gradient import StopGradient

__all__ = [
    "LastValidStep",
    "MaskedFramePooling",
    "MaskedMeanPooling",
    "SinusoidalPositionEmbedding",
    "StopGradient",
    "gather_last_valid_step",
    "lengths_from_mask",
    "masked_mean",
    "reverse_within_length",
    "zero_padded_steps",
]

"""Fusion blocks: how modality representations are combined."""

from msakeras.layers.fusion.hierarchical_bottleneck_fusion import (
    HierarchicalBottleneckFusion,
)
from msakeras.layers.fusion.mlp_fusion import MLPFusion

__all__ = [
    "HierarchicalBottleneckFusion",
    "MLPFusion",
]

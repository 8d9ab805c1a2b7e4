"""Fusion blocks: how modality representations are combined."""

from msakeras.layers.fusion.addition_fusion import AdditionFusion
from msakeras.layers.fusion.concatenation_fusion import ConcatenationFusion
from msakeras.layers.fusion.graph_fusion import GraphFusion
from msakeras.layers.fusion.hierarchical_bottleneck_fusion import (
    HierarchicalBottleneckFusion,
)
from msakeras.layers.fusion.mlp_fusion import MLPFusion
from msakeras.layers.fusion.tensor_fusion import TensorFusion

__all__ = [
    "AdditionFusion",
    "ConcatenationFusion",
    "GraphFusion",
    "HierarchicalBottleneckFusion",
    "MLPFusion",
    "TensorFusion",
]

"""Fusion blocks: how modality representations are combined."""

from msakeras.layers.fusion.addition_fusion import AdditionFusion
from msakeras.layers.fusion.concatenation_fusion import ConcatenationFusion
from msakeras.layers.fusion.gated_cross_modal_transformer import (
    GatedCrossModalTransformer,
)
from msakeras.layers.fusion.gated_cross_modal_transformer_layer import (
    GatedCrossModalTransformerLayer,
)
from msakeras.layers.fusion.graph_fusion import GraphFusion
from msakeras.layers.fusion.hierarchical_bottleneck_fusion import (
    HierarchicalBottleneckFusion,
)
from msakeras.layers.fusion.mlp_fusion import MLPFusion
from msakeras.layers.fusion.tensor_fusion import TensorFusion

__all__ = [
    "AdditionFusion",
    "ConcatenationFusion",
    "GatedCrossModalTransformer",
    "GatedCrossModalTransformerLayer",
    "GraphFusion",
    "HierarchicalBottleneckFusion",
    "MLPFusion",
    "TensorFusion",
]

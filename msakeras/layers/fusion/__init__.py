"""Fusion blocks: how modality representations are combined."""

from msakeras.layers.fusion.mlp_fusion import MLPFusion

__all__ = ["MLPFusion"]

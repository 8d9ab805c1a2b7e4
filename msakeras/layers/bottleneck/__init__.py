"""Information bottlenecks: stochastic encoders with a KL penalty."""

from msakeras.layers.bottleneck.variational_bottleneck import (
    VariationalBottleneck,
)

__all__ = ["VariationalBottleneck"]

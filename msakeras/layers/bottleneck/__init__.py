"""msakeras.layers.bottleneck."""

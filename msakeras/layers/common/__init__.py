"""msakeras.layers.common."""

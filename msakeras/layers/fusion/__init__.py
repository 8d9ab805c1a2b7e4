"""msakeras.layers.fusion."""

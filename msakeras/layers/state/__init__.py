"""msakeras.layers.state."""

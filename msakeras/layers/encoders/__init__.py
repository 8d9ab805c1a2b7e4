"""msakeras.layers.encoders."""

"""msakeras.layers.estimators."""

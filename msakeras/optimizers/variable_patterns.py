"""Regexes that select a layer's variables for an `OptimizerMap`."""

import re


def variables_pattern(layer):
    """A regex full-matching the `variable.path` of every weight of `layer`.

    `OptimizerMap` keys are regexes full-matched against `variable.path`.
    A prefix such as `".*/text_encoder/.*"` does not select a keras-hub
    backbone's weights: keras-hub creates them outside the wrapping layer's
    name scope (`transformer_layer_0/...`, `token_embedding/...`). This
    alternation of the layer's exact, escaped paths selects exactly its
    weights and serializes with the optimizer.
    """
    paths = sorted({variable.path for variable in layer.weights})
    if not paths:
        raise ValueError(
            f"Layer {layer.name!r} has no weights yet; build it first."
        )
    return "|".join(re.escape(path) for path in paths)

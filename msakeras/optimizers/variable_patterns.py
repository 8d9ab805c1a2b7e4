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
    paths = [variable.path for variable in layer.weights]
    if not paths:
        raise ValueError(
            f"Layer {layer.name!r} has no weights yet; build it first."
        )
    return paths_pattern(paths)


def paths_pattern(paths):
    """A regex full-matching exactly the given variable paths.

    The sorted, deduplicated alternation of the escaped `paths`, as
    `variables_pattern` builds it for a whole layer; use it for a subset
    of a layer's variables (e.g. the no-decay group of an encoder).
    """
    return "|".join(re.escape(path) for path in sorted(set(paths)))

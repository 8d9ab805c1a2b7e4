"""Weights by path and MMIM's likelihood critics, for the MMIM and MCER tests.

Both models train MMIM's MMILB critics `q(h_m | h_t)` alone in stage 1;
the tests compare every trainable weight before and after a pass.
"""

import keras


def weights_by_path(model):
    """`{variable.path: NumPy copy}` of the model's trainable variables."""
    return {
        variable.path: keras.ops.convert_to_numpy(variable).copy()
        for variable in model.trainable_variables
    }


def is_likelihood_critic(path):
    """A weight of an MMILB critic's likelihood heads (layers `mmilb_*`).

    The critics' entropy projections are frozen (non-trainable), so they
    are not among the weights `weights_by_path` returns at all.
    """
    return "/mmilb_" in f"/{path}" and "entropy_projection" not in path


def entropy_projections(model):
    """`{path: NumPy copy}` of the MMILB entropy projections `P`."""
    return {
        variable.path: keras.ops.convert_to_numpy(variable).copy()
        for variable in model.weights
        if "/mmilb_" in f"/{variable.path}"
        and "entropy_projection" in variable.path
    }

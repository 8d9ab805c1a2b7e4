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

    The critics' entropy projections are trained by the main pass.
    """
    return "/mmilb_" in f"/{path}" and "entropy_projection" not in path

"""The global random-number state a resumed run must carry over.

Keras draws from its own `SeedGenerator` variables, except in one place:
under torch, a `Dropout` built without a seed takes the "fast path" of
`torch.nn.functional.dropout`, which draws from torch's global generator.
That state is not a Keras variable, so `save_weights` misses it and a
resumed run would drop different units than an uninterrupted one. These
helpers read and restore it (and Python's and NumPy's global states, for
code that uses them) as NumPy arrays, so a backup can store them.
"""

import random

import keras
import numpy as np


def get_global_rng_state():
    """`{name: np.ndarray}`: Python, NumPy and (torch) global RNG states."""
    version, internal, gauss = random.getstate()
    state = {
        "python": np.asarray(internal, dtype=np.int64),
        "python_meta": np.asarray(
            [version, 0 if gauss is None else 1], dtype=np.int64
        ),
        "python_gauss": np.asarray([0.0 if gauss is None else gauss]),
    }
    name, keys, position, has_gauss, cached = np.random.get_state()
    state["numpy_keys"] = np.asarray(keys)
    state["numpy_meta"] = np.asarray([position, has_gauss], dtype=np.int64)
    state["numpy_gauss"] = np.asarray([cached])
    if keras.config.backend() == "torch":
        import torch

        state["torch"] = torch.get_rng_state().numpy().copy()
    return state


def set_global_rng_state(state):
    """Restores what `get_global_rng_state` returned (missing keys: kept)."""
    if "python" in state:
        version, has_gauss = (int(v) for v in state["python_meta"])
        gauss = float(state["python_gauss"][0]) if has_gauss else None
        internal = tuple(int(v) for v in state["python"])
        random.setstate((version, internal, gauss))
    if "numpy_keys" in state:
        position, has_gauss = (int(v) for v in state["numpy_meta"])
        np.random.set_state(
            (
                "MT19937",
                np.asarray(state["numpy_keys"], dtype=np.uint32),
                position,
                has_gauss,
                float(state["numpy_gauss"][0]),
            )
        )
    if "torch" in state and keras.config.backend() == "torch":
        import torch

        torch.set_rng_state(
            torch.from_numpy(np.asarray(state["torch"], dtype=np.uint8))
        )

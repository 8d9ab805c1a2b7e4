"""The global random-number state a resumed run must carry over.

Keras draws from its own `SeedGenerator` variables, except in one place:
under torch, a `Dropout` built without a seed takes the "fast path" of
`torch.nn.functional.dropout`, which draws from torch's global generator.
That state is not a Keras variable, so `save_weights` misses it and a
resumed run would drop different units than an uninterrupted one. These
helpers read and restore it (and Python's and NumPy's global states, for
code that uses them) as NumPy arrays, so a backup can store them.

On a GPU, torch's dropout fast path draws from the CUDA generator of the
device instead (one per device), so its state is saved too
(`torch.cuda.get_rng_state_all`) whenever torch has initialised CUDA; on a
CPU-only machine, or before CUDA is initialised, nothing is saved and
restoring is a no-op. A backup from a machine with another number of GPUs
restores nothing on the CUDA side and says so.
"""

import random
import warnings

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
        cuda = _torch_cuda_state(torch)
        if cuda is not None:
            state["torch_cuda"] = cuda
    return state


def _torch_cuda_state(torch):
    """`(devices, bytes)` uint8 CUDA generator states, or None without CUDA.

    Only read once torch has initialised CUDA: asking earlier would
    initialise it (and the state is still the seed's then anyway).
    """
    cuda = torch.cuda
    if not (cuda.is_available() and cuda.is_initialized()):
        return None
    states = [state.cpu().numpy() for state in cuda.get_rng_state_all()]
    if not states:
        return None
    return np.stack(states).astype(np.uint8)


def _set_torch_cuda_state(torch, saved):
    saved = np.asarray(saved, dtype=np.uint8)
    cuda = torch.cuda
    if not cuda.is_available():
        warnings.warn(
            f"The backup holds the CUDA generator state of {saved.shape[0]} "
            "GPU(s) but CUDA is not available here; dropout on the GPU "
            "will not continue the interrupted run's random stream.",
            stacklevel=3,
        )
        return
    count = cuda.device_count()
    if count != saved.shape[0]:
        warnings.warn(
            f"The backup holds the CUDA generator state of {saved.shape[0]} "
            f"GPU(s) but {count} are visible; the CUDA state is not "
            "restored.",
            stacklevel=3,
        )
        return
    cuda.set_rng_state_all([torch.from_numpy(row.copy()) for row in saved])


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
    if "torch_cuda" in state and keras.config.backend() == "torch":
        import torch

        _set_torch_cuda_state(torch, state["torch_cuda"])

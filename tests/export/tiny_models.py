"""Tiny instances of every landed model, trained briefly, for export tests.

Each builder returns `(model, x, y)` from the model's own unit-test
helpers (tiny random keras-hub BERT backbones). `fresh_batch` makes an
inference batch with another batch size and sequence length than the
export's own probes, with right-padded masks.
"""

import keras
import numpy as np

from tests.models.dashfusion import test_dashfusion_model as dashfusion
from tests.models.hycon import test_hycon_model as hycon
from tests.models.mcer import test_mcer_model as mcer
from tests.models.mmim import test_mmim_model as mmim
from tests.models.self_mi import test_self_mi_model as self_mi

MODEL_NAMES = ("mmim", "hycon", "self_mi", "dashfusion", "mcer")


def build(name):
    if name == "mmim":
        x, y = mmim.tiny_batch(8)
        return mmim.tiny_model(two_stage=False), x, y
    if name == "hycon":
        x, y = hycon.tiny_batch(8)
        return hycon.tiny_model(), x, y
    if name == "self_mi":
        x, y = self_mi.tiny_data()
        return self_mi.tiny_model(), x, y
    if name == "dashfusion":
        x, y = dashfusion.tiny_data(4)
        return dashfusion.tiny_model(), x, y
    if name == "mcer":
        x, y = mcer.tiny_data()
        return mcer.tiny_model(), x, y
    raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}")


def trained(name, seed=3):
    """The tiny model after one epoch of `fit` under this backend."""
    keras.utils.set_random_seed(seed)
    model, x, y = build(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, y, batch_size=len(y) // 2, epochs=1, verbose=0)
    return model


def fresh_batch(model, batch_size=5, steps=5, seed=11):
    """Inputs for every serving input: random features, masks, token ids."""
    rng = np.random.RandomState(seed)
    lengths = 1 + rng.randint(0, steps, batch_size)
    lengths[0] = steps
    batch = {}
    for tensor in model.inputs:
        name = tensor.name
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        shape = [batch_size] + [
            steps if size is None else size for size in tensor.shape[1:]
        ]
        if name == "index":
            batch[name] = np.zeros(shape, dtype)
        elif "mask" in name:
            mask = np.arange(shape[1])[None] < lengths[:, None]
            batch[name] = mask.astype(dtype)
        elif dtype.startswith("int"):
            batch[name] = rng.randint(1, 100, shape).astype(dtype)
        else:
            batch[name] = rng.normal(size=shape).astype(dtype)
    for name in list(batch):
        mask_name = "text_padding_mask" if name == "text_token_ids" else None
        mask_name = mask_name or f"{name}_mask"
        if mask_name in batch and name != mask_name:
            mask = batch[mask_name]
            mask = mask.reshape(mask.shape + (1,) * (batch[name].ndim - 2))
            batch[name] = (batch[name] * mask).astype(batch[name].dtype)
    return batch

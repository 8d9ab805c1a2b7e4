"""Size and speed of a model on the current backend.

Parameters per top-level block (trainable / frozen), a FLOP estimate per
sample of one inference forward pass (the backend's own counter,
`msakeras.backend.device_info.forward_flops`), training and inference
samples per second on a fixed synthetic batch, and peak memory.
"""

import time

import keras
import numpy as np
import pandas as pd

from msakeras.experiment.held_out_test_split import model_inputs

MODEL_CLASSES = {
    "mmim": "MMIMModel",
    "hycon": "HyConModel",
    "self_mi": "SelfMIModel",
    "mcer": "MCERModel",
    "dashfusion": "DashFusionModel",
}
"""Model names (as in `recipes/<name>.py`) and their `msakeras.models`
classes."""


def synthetic_batch(dataset="mosi", batch_size=32, seed=0, **shapes):
    """One batch of synthetic arrays shaped like `dataset`'s release."""
    from msakeras.data import generate_synthetic_splits

    splits, attributes = generate_synthetic_splits(
        dataset,
        num_train=batch_size,
        num_valid=1,
        num_test=1,
        seed=seed,
        **shapes,
    )
    return splits["train"], attributes


def build_named_model(name, text_encoder, audio_dim, vision_dim, **kwargs):
    """`msakeras.models.<Class>` of a model name with its default settings.

    `self_mi` and `mcer` also need `num_train_samples` (the size of their
    per-sample tables).
    """
    from msakeras import models

    if name not in MODEL_CLASSES:
        raise ValueError(
            f"Unknown model {name!r}; expected one of {sorted(MODEL_CLASSES)}."
        )
    model_class = getattr(models, MODEL_CLASSES[name])
    if name not in ("self_mi", "mcer"):
        kwargs.pop("num_train_samples", None)
    return model_class(
        text_encoder, audio_dim=audio_dim, vision_dim=vision_dim, **kwargs
    )


def _size(variables):
    return int(sum(np.prod(variable.shape) for variable in variables))


def parameter_table(model):
    """Trainable / frozen parameter counts per top-level block, plus total.

    Returns:
        A `pandas.DataFrame` indexed by block name with columns
        `trainable`, `frozen`, `total`; the last row is `total` (the
        model's own counts, so shared weights are counted once).
    """
    rows = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        trainable = _size(layer.trainable_weights)
        frozen = _size(layer.non_trainable_weights)
        if trainable or frozen:
            rows[layer.name] = {"trainable": trainable, "frozen": frozen}
    rows["total"] = {
        "trainable": _size(model.trainable_weights),
        "frozen": _size(model.non_trainable_weights),
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["total"] = table["trainable"] + table["frozen"]
    table.index.name = "block"
    return table


def _timed(step, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return time.perf_counter() - start


def profile_model(model, batch, warmup=2, steps=5, count_flops=True):
    """Throughput, FLOPs and peak memory of a compiled model on `batch`.

    Args:
        model: a compiled Keras model.
        batch: dict of NumPy arrays (a split's keys, `label` included).
        warmup: int. Untimed steps first (tracing, compilation).
        steps: int. Timed steps.
        count_flops: bool. Also count FLOPs (slow under TensorFlow).

    Returns:
        dict with `batch_size`, `train_samples_per_second`,
        `inference_samples_per_second`, `flops_per_sample` (or None),
        `peak_memory_bytes`, `peak_memory_kind`, `backend`, `device`.
    """
    from msakeras.backend import device_info

    inputs = model_inputs(model, batch)
    labels = np.asarray(batch["label"], dtype="float32").reshape(-1, 1)
    batch_size = int(labels.shape[0])
    device_info.reset_peak_memory()

    def train_step():
        model.train_on_batch(inputs, labels)

    def inference_step():
        model.predict_on_batch(inputs)

    for _ in range(warmup):
        train_step()
    train_seconds = _timed(train_step, steps)
    for _ in range(warmup):
        inference_step()
    inference_seconds = _timed(inference_step, steps)
    flops = None
    if count_flops:
        single = {name: value[:1] for name, value in inputs.items()}
        flops = device_info.forward_flops(model, single)
    peak, kind = device_info.peak_memory_bytes()
    return {
        "backend": keras.config.backend(),
        "device": device_info.device_description(),
        "batch_size": batch_size,
        "timed_steps": int(steps),
        "train_samples_per_second": batch_size * steps / train_seconds,
        "inference_samples_per_second": batch_size * steps / inference_seconds,
        "flops_per_sample": flops,
        "peak_memory_bytes": peak,
        "peak_memory_kind": kind,
    }

"""Tiny random models and data of the five models, dropout 0 (compile tests)."""

import keras
import numpy as np

from msakeras.testing.tiny_models import MODEL_NAMES  # noqa: F401
from msakeras.testing.tiny_models import tiny_model  # noqa: F401

NUM_SAMPLES = 12
BATCH_SIZE = 4


def tiny_data(name, seed=0):
    """`(x, y)`: `NUM_SAMPLES` padded samples with ragged true lengths."""
    rng = np.random.default_rng(seed)
    lengths = {"text": 6, "audio": 7, "vision": 5}
    masks = {
        key: (
            np.arange(steps)[None]
            < rng.integers(2, steps + 1, (NUM_SAMPLES, 1))
        ).astype("int32")
        for key, steps in lengths.items()
    }
    x = {
        "text_token_ids": rng.integers(3, 100, (NUM_SAMPLES, 6)).astype("int32")
        * masks["text"],
        "text_padding_mask": masks["text"],
        "audio": rng.normal(size=(NUM_SAMPLES, 7, 3)).astype("float32")
        * masks["audio"][..., None],
        "audio_mask": masks["audio"],
        "vision": rng.normal(size=(NUM_SAMPLES, 5, 4)).astype("float32")
        * masks["vision"][..., None],
        "vision_mask": masks["vision"],
    }
    if name in ("self_mi", "mcer"):
        x["index"] = rng.permutation(NUM_SAMPLES).astype("int32")
    y = np.round(rng.uniform(-3, 3, (NUM_SAMPLES, 1)), 1).astype("float32")
    y[0] = 0.0
    return x, y


def compiled_fit(name, jit_compile, epochs=1, seed=0, callbacks=()):
    """A fresh seeded tiny model compiled with `jit_compile`, fitted.

    Returns `(model, batch_losses, history)`; `batch_losses` are the
    running epoch-mean losses after each batch.
    """
    keras.utils.set_random_seed(seed)
    model = tiny_model(name)
    model.compile(jit_compile=jit_compile)
    x, y = tiny_data(name, seed)
    losses = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(
            float(logs["loss"])
        )
    )
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[record, *callbacks],
    )
    return model, losses, history

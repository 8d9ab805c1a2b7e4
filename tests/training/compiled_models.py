"""Tiny random models and data of the five models, dropout 0 (compile tests)."""

import keras
import numpy as np

import msakeras
from msakeras.testing.tiny_text_encoder import tiny_text_encoder

NUM_SAMPLES = 12
BATCH_SIZE = 4
MODEL_NAMES = ("hycon", "mmim", "self_mi", "mcer", "dashfusion")


def _encoder():
    return tiny_text_encoder(hidden_dim=8, dropout=0.0, max_sequence_length=8)


def tiny_model(name):
    """A tiny `name` model (random weights from Keras's global seed)."""
    common = dict(audio_dim=3, vision_dim=4)
    if name == "hycon":
        return msakeras.models.HyConModel(
            _encoder(),
            hidden_dim=8,
            num_heads=2,
            num_layers=1,
            graph_hidden_dim=6,
            attention_dropout=0.0,
            relu_dropout=0.0,
            residual_dropout=0.0,
            embedding_dropout=0.0,
            **common,
        )
    if name == "mmim":
        return msakeras.models.MMIMModel(
            _encoder(),
            audio_hidden_dim=4,
            vision_hidden_dim=4,
            fusion_dim=8,
            fusion_dropout=0.0,
            memory_capacity=8,
            **common,
        )
    sizes = dict(
        num_train_samples=NUM_SAMPLES,
        audio_hidden_dim=4,
        vision_hidden_dim=4,
        fusion_dim=8,
        text_post_dim=4,
        audio_post_dim=3,
        vision_post_dim=4,
        fusion_dropout=0.0,
        audio_dropout=0.0,
        vision_dropout=0.0,
        **common,
    )
    if name == "self_mi":
        return msakeras.models.SelfMIModel(_encoder(), **sizes)
    if name == "mcer":
        return msakeras.models.MCERModel(
            _encoder(),
            bottleneck_hidden_dim=4,
            cross_modal_dim=4,
            cross_modal_layers=1,
            cross_modal_heads=2,
            cross_modal_dropout=0.0,
            sequence_recurrent_dim=4,
            cross_head_dim=4,
            memory_capacity=8,
            **sizes,
        )
    if name == "dashfusion":
        return msakeras.models.DashFusionModel(
            text_encoder=_encoder(),
            hidden_dim=8,
            num_heads=2,
            intermediate_dim=16,
            num_encoder_layers=1,
            max_audio_length=8,
            max_vision_length=8,
            temporal_num_heads=2,
            temporal_head_dim=4,
            num_fusion_layers=1,
            num_bottleneck_tokens=4,
            encoder_dropout=0.0,
            position_dropout=0.0,
            **common,
        )
    raise ValueError(f"unknown model {name!r}")


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

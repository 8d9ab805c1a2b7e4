"""A tiny standard file and a tiny saveable model for experiment tests."""

import os

import keras

import msakeras


def tiny_data(directory, name="tiny.h5", seed=0, num=24, dataset="mosi"):
    return msakeras.data.make_synthetic_dataset(
        os.path.join(directory, name),
        dataset=dataset,
        num_train=num,
        num_valid=num // 2,
        num_test=num // 2,
        seed=seed,
        text_length=8,
        audio_steps=6,
        vision_steps=5,
        audio_dim=3,
        vision_dim=4,
        vocabulary_size=50,
    )


def tiny_model(audio_dim=3, vision_dim=4, vocabulary_size=50):
    """Masked mean of each modality, concatenated, one dense layer."""
    inputs = {
        "text_token_ids": keras.Input((None,), dtype="int32",
                                      name="text_token_ids"),
        "text_padding_mask": keras.Input((None,), dtype="int32",
                                         name="text_padding_mask"),
        "audio": keras.Input((None, audio_dim), name="audio"),
        "audio_mask": keras.Input((None,), dtype="int32", name="audio_mask"),
        "vision": keras.Input((None, vision_dim), name="vision"),
        "vision_mask": keras.Input((None,), dtype="int32", name="vision_mask"),
    }  # fmt: skip
    embedded = keras.layers.Embedding(vocabulary_size, 4, name="embedding")(
        inputs["text_token_ids"]
    )
    pooled = [
        msakeras.layers.MaskedMeanPooling(name=f"{name}_pool")(
            sequence, mask=inputs[mask]
        )
        for name, sequence, mask in (
            ("text", embedded, "text_padding_mask"),
            ("audio", inputs["audio"], "audio_mask"),
            ("vision", inputs["vision"], "vision_mask"),
        )
    ]
    joined = keras.layers.Concatenate(name="concatenate")(pooled)
    sentiment = keras.layers.Dense(1, name="sentiment")(joined)
    model = keras.Model(inputs, {"sentiment": sentiment}, name="tiny")
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss={"sentiment": "mae"},
        metrics={"sentiment": [keras.metrics.MeanAbsoluteError(name="mae")]},
    )
    return model

"""Self-MM's features as Self-MI and MCER declare them (no mixin).

Both models hold a `BertTextEncoder` as `text_encoder` and a
`SelfMMFeatureEncoder` as `self_mm_features` (the audio / vision sLSTMs,
the fusion post layer and the unimodal post layers; Self-MM eqs. 1–3,
Self-MI eqs. 2–8, MCER eqs. 3, 6). This module holds what their
constructors share: the Self-MM argument names, the layer built from
them, where `get_config` reads them back, the named inputs and the
encoding step of the functional graph.
"""

import keras

from msakeras.layers.encoders import self_mm_feature_encoder
from msakeras.models import msa_model

MODALITIES = self_mm_feature_encoder.MODALITIES
# The constructor arguments of Self-MI and MCER that build the
# `SelfMMFeatureEncoder` (same names, kept on the layer).
ARGUMENTS = (
    "audio_hidden_dim",
    "audio_output_dim",
    "vision_hidden_dim",
    "vision_output_dim",
    "fusion_dim",
    "text_post_dim",
    "audio_post_dim",
    "vision_post_dim",
    "fusion_dropout",
    "text_dropout",
    "audio_dropout",
    "vision_dropout",
)
# `MSAModel.config_attribute_names` of the two models: `get_config` reads
# these arguments back from the layer.
CONFIG_ATTRIBUTES = {name: f"self_mm_features.{name}" for name in ARGUMENTS}


def feature_encoder(arguments):
    """The `SelfMMFeatureEncoder` named `self_mm_features`.

    Args:
        arguments: mapping with every name of `ARGUMENTS` (a constructor's
            `locals()`); an output dim of `None` is the LSTM width
            (Self-MI §6.6, "embedding size").
    """
    values = {name: arguments[name] for name in ARGUMENTS}
    for modality in ("audio", "vision"):
        values[f"{modality}_output_dim"] = (
            values[f"{modality}_output_dim"] or values[f"{modality}_hidden_dim"]
        )
    return self_mm_feature_encoder.SelfMMFeatureEncoder(
        **values, name="self_mm_features"
    )


def feature_widths(encoder):
    """`{"fusion": d_m, "text": d_t, "audio": d_a, "vision": d_v}`: the
    widths of `F_m` and `F_s`."""
    return {
        "fusion": encoder.fusion_dim,
        "text": encoder.text_post_dim,
        "audio": encoder.audio_post_dim,
        "vision": encoder.vision_post_dim,
    }


def encode(text_encoder, encoder, inputs):
    """Runs the text encoder and the `SelfMMFeatureEncoder` on `inputs`.

    Returns:
        `(text_outputs, encoded, features)`: the text encoder's output
        dict (`cls`, `sequence`), the unimodal features `X_s` by modality
        (`X_t` = `[CLS]`) and `{"fusion": F_m, <modality>: F_s}`.
    """
    text = text_encoder(inputs["text_token_ids"], inputs["text_padding_mask"])
    outputs = encoder(
        text["cls"],
        inputs["audio"],
        inputs["audio_mask"],
        inputs["vision"],
        inputs["vision_mask"],
    )
    encoded = {
        "text": text["cls"],
        "audio": outputs["audio_features"],
        "vision": outputs["vision_features"],
    }
    features = {key: outputs[key] for key in ("fusion",) + MODALITIES}
    return text, encoded, features


def self_mm_inputs(audio_dim, vision_dim):
    """The named `keras.Input`s of Self-MI and MCER (any sequence lengths):
    `msa_model.sequence_inputs` and the training-sample `index` that keys
    the label state."""
    return {
        **msa_model.sequence_inputs(audio_dim, vision_dim),
        "index": keras.Input((), dtype="int32", name="index"),
    }

"""`encode_modalities`: BERT `[CLS]` and masked-LSTM unimodal features."""


def encode_modalities(model, inputs):
    """The unimodal features of the BERT-text models (MMIM, Self-MI, MCER).

    Calls `model.text_encoder` on the token ids and padding mask, then
    `model.audio_encoder` and `model.vision_encoder` (masked LSTMs, e.g.
    `MaskedLSTMEncoder`) on the frames and their masks, in that order.

    Args:
        model: a model with `text_encoder`, `audio_encoder` and
            `vision_encoder` attributes.
        inputs: dict of the named inputs of `msa_model.sequence_inputs`.

    Returns:
        `(text_outputs, encoded)`: the text encoder's output dict (with
        `cls` and `sequence`) and `{"text": [CLS] state, "audio": X_a,
        "vision": X_v}`.
    """
    text = model.text_encoder(
        inputs["text_token_ids"], inputs["text_padding_mask"]
    )
    encoded = {
        "text": text["cls"],
        "audio": model.audio_encoder(
            inputs["audio"], mask=inputs["audio_mask"]
        ),
        "vision": model.vision_encoder(
            inputs["vision"], mask=inputs["vision_mask"]
        ),
    }
    return text, encoded

"""The model the README's serving example describes: a tiny MMIM with
MOSI's feature sizes (audio 5, vision 20) and the bert-base-uncased
vocabulary size, so the README's token ids (101 = [CLS]) are valid."""

import keras

import msakeras

AUDIO_DIM = 5
VISION_DIM = 20


def readme_model(seed=1):
    keras.utils.set_random_seed(seed)
    backbone = msakeras.layers.ExactGeluBertBackbone(
        vocabulary_size=30522,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )
    encoder = msakeras.layers.BertTextEncoder(backbone, name="text_encoder")
    return msakeras.models.MMIMModel(
        encoder,
        audio_dim=AUDIO_DIM,
        vision_dim=VISION_DIM,
        audio_hidden_dim=8,
        vision_hidden_dim=8,
        fusion_dim=16,
        memory_capacity=16,
        two_stage=False,
        name="mmim",
    )

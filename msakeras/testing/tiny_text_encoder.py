"""A tiny random BERT text encoder for tests and examples (no download)."""

import keras_hub

from msakeras.layers.encoders.bert_text_encoder import BertTextEncoder
from msakeras.layers.encoders.exact_gelu_bert_backbone import (
    ExactGeluBertBackbone,
)


def tiny_text_encoder(
    vocabulary_size=100,
    hidden_dim=8,
    num_layers=1,
    dropout=0.1,
    max_sequence_length=16,
    name="text_encoder",
    exact_gelu=False,
):
    """`BertTextEncoder` over a random 1-layer, 2-head keras-hub BERT.

    Args:
        vocabulary_size: int. Token ids must be below it. Defaults to 100.
        hidden_dim: int. Width of the token states. Defaults to 8.
        num_layers: int. Transformer layers. Defaults to 1.
        dropout: float. BERT's dropout rate. Defaults to 0.1.
        max_sequence_length: int. Longest text. Defaults to 16.
        name: str or None. The layer's name. Defaults to `"text_encoder"`,
            the name the models' optimizer maps expect.
        exact_gelu: bool. `ExactGeluBertBackbone` (the erf GELU of Hugging
            Face BERT) instead of keras-hub's tanh approximation. Defaults
            to `False`.
    """
    backbone_class = (
        ExactGeluBertBackbone if exact_gelu else keras_hub.models.BertBackbone
    )
    backbone = backbone_class(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=2,
        hidden_dim=hidden_dim,
        intermediate_dim=2 * hidden_dim,
        dropout=dropout,
        max_sequence_length=max_sequence_length,
    )
    return BertTextEncoder(backbone, name=name)

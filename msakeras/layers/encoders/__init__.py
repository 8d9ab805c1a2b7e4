"""msakeras.layers.encoders: modality sequence encoders."""

from msakeras.layers.encoders.bert_loading import bundled_minilm_path
from msakeras.layers.encoders.bert_loading import load_bert_backbone
from msakeras.layers.encoders.bert_loading import load_bert_vocabulary
from msakeras.layers.encoders.bert_text_encoder import BertTextEncoder
from msakeras.layers.encoders.bigru_mean_pooling import BiGRUMeanPooling
from msakeras.layers.encoders.bigru_sequence_encoder import BiGRUSequenceEncoder
from msakeras.layers.encoders.conv1d_projection import Conv1DProjection
from msakeras.layers.encoders.exact_gelu_bert_backbone import (
    ExactGeluBertBackbone,
)
from msakeras.layers.encoders.masked_lstm_encoder import MaskedLSTMEncoder
from msakeras.layers.encoders.mult_transformer_encoder import (
    MulTTransformerEncoder,
)
from msakeras.layers.encoders.mult_transformer_layer import MulTTransformerLayer
from msakeras.layers.encoders.self_mm_feature_encoder import (
    SelfMMFeatureEncoder,
)

__all__ = [
    "BertTextEncoder",
    "ExactGeluBertBackbone",
    "bundled_minilm_path",
    "load_bert_backbone",
    "load_bert_vocabulary",
    "BiGRUMeanPooling",
    "BiGRUSequenceEncoder",
    "Conv1DProjection",
    "MaskedLSTMEncoder",
    "MulTTransformerEncoder",
    "MulTTransformerLayer",
    "SelfMMFeatureEncoder",
]

"""`SelfMMFeatureEncoder`: Self-MM's unimodal encoders and post layers."""

import keras

from msakeras.layers.encoders import masked_lstm_encoder
from msakeras.layers.fusion import mlp_fusion

MODALITIES = ("text", "audio", "vision")


@keras.saving.register_keras_serializable(package="msakeras")
class SelfMMFeatureEncoder(keras.layers.Layer):
    """Self-MM's audio / vision encoders, fusion and unimodal post layers.

    Self-MM (Yu et al., AAAI 2021, MMSA `SELF_MM`) encodes audio and
    vision with an sLSTM over the valid frames (final state, then a
    linear layer: `AuViSubNet`) and forms the fusion feature
    `F_m = ReLU(W_m Dropout([X_t; X_a; X_v]))` and the unimodal features
    `F_s = ReLU(W_s Dropout(X_s))` (Self-MM eqs. 1–3; Self-MI eqs. 2–8;
    MCER eqs. 3, 6). The text feature `X_t` (BERT `[CLS]`) is computed by
    the model's own text encoder and passed in: recipes, optimizers and
    converters address the text encoder on the model.

    Sublayers (attribute = layer name): `audio_encoder`, `vision_encoder`
    (`MaskedLSTMEncoder`), `fusion`, `text_post`, `audio_post`,
    `vision_post` (`MLPFusion` with one ReLU layer, Self-MM's
    `post_*_layer_1`, Glorot-uniform kernels). Until this layer existed
    Self-MI and MCER held them themselves; `moved_sublayers()` lets files
    of that layout load (`MSAModel.moved_layers`).

    Args:
        audio_hidden_dim, vision_hidden_dim: int. sLSTM widths.
        audio_output_dim, vision_output_dim: int. Widths of `X_a`, `X_v`.
        fusion_dim: int. Width of `F_m`.
        text_post_dim, audio_post_dim, vision_post_dim: int. Widths of
            `F_s`.
        fusion_dropout, text_dropout, audio_dropout, vision_dropout:
            float. Dropout before each post layer.

    Call arguments:
        text: float `(batch, d_t)`. `X_t`.
        audio: float `(batch, frames, audio_dim)`; `audio_mask`
            `(batch, frames)` (1 = valid frame).
        vision: float `(batch, frames, vision_dim)`; `vision_mask`.
        training: bool. Dropout on or off.

    Returns:
        dict: `audio_features` (`X_a`), `vision_features` (`X_v`),
        `fusion` (`F_m`) and `text`, `audio`, `vision` (`F_s`).

    Example:

    ```python
    encoder = SelfMMFeatureEncoder(16, 16, 16, 16, 128, 32, 16, 32)
    features = encoder(text_cls, audio, audio_mask, vision, vision_mask)
    ```

    Reference:
        Yu, Xu, Yuan, Wu, "Learning Modality-Specific Representations with
        Self-Supervised Multi-Task Learning for Multimodal Sentiment
        Analysis", AAAI 2021, https://arxiv.org/abs/2102.04830
    """

    def __init__(
        self,
        audio_hidden_dim,
        audio_output_dim,
        vision_hidden_dim,
        vision_output_dim,
        fusion_dim,
        text_post_dim,
        audio_post_dim,
        vision_post_dim,
        fusion_dropout=0.0,
        text_dropout=0.0,
        audio_dropout=0.0,
        vision_dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.audio_hidden_dim = audio_hidden_dim
        self.audio_output_dim = audio_output_dim
        self.vision_hidden_dim = vision_hidden_dim
        self.vision_output_dim = vision_output_dim
        self.fusion_dim = fusion_dim
        self.text_post_dim = text_post_dim
        self.audio_post_dim = audio_post_dim
        self.vision_post_dim = vision_post_dim
        self.fusion_dropout = fusion_dropout
        self.text_dropout = text_dropout
        self.audio_dropout = audio_dropout
        self.vision_dropout = vision_dropout
        # Attribute order is the order of the weights (as the models had
        # them before this layer).
        self.audio_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            audio_hidden_dim, audio_output_dim, name="audio_encoder"
        )
        self.vision_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            vision_hidden_dim, vision_output_dim, name="vision_encoder"
        )
        self.fusion = _post_layer(fusion_dim, fusion_dropout, "fusion")
        self.text_post = _post_layer(text_post_dim, text_dropout, "text_post")
        self.audio_post = _post_layer(
            audio_post_dim, audio_dropout, "audio_post"
        )
        self.vision_post = _post_layer(
            vision_post_dim, vision_dropout, "vision_post"
        )

    def post_layers(self):
        """`{modality: MLPFusion}`: the unimodal post layers."""
        return {
            "text": self.text_post,
            "audio": self.audio_post,
            "vision": self.vision_post,
        }

    def moved_sublayers(self):
        """`{attribute: layer name}` of the sublayers Self-MI and MCER held
        themselves before this layer existed (their files load)."""
        return {
            "audio_encoder": self.audio_encoder.name,
            "vision_encoder": self.vision_encoder.name,
            "fusion": self.fusion.name,
            **{
                f"{modality}_post": layer.name
                for modality, layer in self.post_layers().items()
            },
        }

    def call(self, text, audio, audio_mask, vision, vision_mask, training=None):
        encoded = {
            "text": text,
            "audio": self.audio_encoder(audio, mask=audio_mask),
            "vision": self.vision_encoder(vision, mask=vision_mask),
        }
        outputs = {
            "audio_features": encoded["audio"],
            "vision_features": encoded["vision"],
            "fusion": self.fusion(
                [encoded["text"], encoded["audio"], encoded["vision"]],
                training=training,
            ),
        }
        for modality, layer in self.post_layers().items():
            outputs[modality] = layer([encoded[modality]], training=training)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "audio_hidden_dim": self.audio_hidden_dim,
                "audio_output_dim": self.audio_output_dim,
                "vision_hidden_dim": self.vision_hidden_dim,
                "vision_output_dim": self.vision_output_dim,
                "fusion_dim": self.fusion_dim,
                "text_post_dim": self.text_post_dim,
                "audio_post_dim": self.audio_post_dim,
                "vision_post_dim": self.vision_post_dim,
                "fusion_dropout": self.fusion_dropout,
                "text_dropout": self.text_dropout,
                "audio_dropout": self.audio_dropout,
                "vision_dropout": self.vision_dropout,
            }
        )
        return config


def _post_layer(width, dropout, name):
    # Post layers: Dropout, then Linear + ReLU (Self-MM *_layer_1).
    return mlp_fusion.MLPFusion(
        width,
        num_layers=1,
        activation="relu",
        dropout=dropout,
        kernel_initializer="glorot_uniform",
        name=name,
    )

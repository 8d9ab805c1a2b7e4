"""`SelfMMFeatures`: Self-MM's encoders, post layers and ULGM objective."""

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.encoders import masked_lstm_encoder
from msakeras.layers.fusion import mlp_fusion
from msakeras.models import msa_model
from msakeras.models.common import modality_encoding

MODALITIES = ("text", "audio", "vision")


class SelfMMFeatures:
    """Mixin of the models built on Self-MM's features (Self-MI, MCER).

    Self-MM (Yu et al., AAAI 2021, MMSA `SELF_MM`) encodes text with BERT
    (`[CLS]`), audio and vision with an sLSTM over the valid frames
    (final state, then a linear layer: `AuViSubNet`), and forms the
    fusion feature `F_m = ReLU(W_m Dropout([X_t; X_a; X_v]))` and the
    unimodal features `F_s = ReLU(W_s Dropout(X_s))` (Self-MM eqs. 1–3;
    Self-MI eqs. 2–8; MCER eqs. 3, 6). Its objective adds, per unimodal
    task, `mean_i tanh(|y_s − y_m|)·|ŷ_s − y_s|` with the labels `y_s`
    of the ULGM label state (Self-MM eq. 13; `UnimodalLabelGenerator`).

    The mixin sets the attributes `text_encoder`, `audio_encoder`,
    `vision_encoder`, `fusion` and `post_layers` (layer names
    `audio_encoder`, `vision_encoder`, `fusion`, `<modality>_post`) and
    reads them back in the functional graph; it holds no state of its
    own. Mix it in before `MSAModel`.
    """

    @staticmethod
    def per_modality(text, audio, vision):
        """`{"text": text, "audio": audio, "vision": vision}`."""
        return dict(zip(MODALITIES, (text, audio, vision)))

    def _build_self_mm_encoders(
        self,
        text_encoder,
        audio_hidden_dim,
        audio_output_dim,
        vision_hidden_dim,
        vision_output_dim,
        fusion_dim,
        fusion_dropout,
    ):
        """Sets the text / audio / vision encoders and the fusion layer."""
        self.text_encoder = text_encoder
        self.audio_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            audio_hidden_dim, audio_output_dim, name="audio_encoder"
        )
        self.vision_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            vision_hidden_dim, vision_output_dim, name="vision_encoder"
        )
        # Post layers: Dropout, then Linear + ReLU (Self-MM *_layer_1).
        self.fusion = _post_layer(fusion_dim, fusion_dropout, "fusion")

    def _build_self_mm_post_layers(self, post_dims, dropouts):
        """Sets the unimodal post layers (`post_dims`, `dropouts` by key)."""
        self.post_layers = {
            modality: _post_layer(
                post_dims[modality], dropouts[modality], f"{modality}_post"
            )
            for modality in MODALITIES
        }

    def _self_mm_features(self, inputs):
        """Encodes the inputs; returns `(text_outputs, encoded, features)`.

        `text_outputs` is the text encoder's output dict, `encoded` the
        unimodal features `X_s` by modality (`encode_modalities`) and
        `features` maps `"fusion"` to `F_m` and each modality to `F_s`.
        """
        text, encoded = modality_encoding.encode_modalities(self, inputs)
        features = {
            "fusion": self.fusion(
                [encoded["text"], encoded["audio"], encoded["vision"]]
            )
        }
        for modality in MODALITIES:
            features[modality] = self.post_layers[modality]([encoded[modality]])
        return text, encoded, features

    def _ulgm_loss(
        self, label_state, index, y_m, y_pred, keys, generated_labels=None
    ):
        """`Σ_k mean tanh(|y_k − y_m|)·|ŷ_k − y_k|`; updates `label_state`.

        Reads `y_pred["fused_embedding"]` and, per key `k`,
        `y_pred[f"{k}_embedding"]` and `y_pred[f"{k}_sentiment"]`. The
        labels `y_k` are those before this batch's update (MMSA order);
        `generated_labels` are ULG_MI's candidates (None: ULGM's rule).
        """
        labels = label_state.update(
            index,
            y_m,
            {
                "fusion": y_pred["fused_embedding"],
                **{key: y_pred[f"{key}_embedding"] for key in keys},
            },
            generated_labels=generated_labels,
        )
        return sum(
            ops.mean(
                losses.label_weighted_mae(
                    labels[key], y_pred[f"{key}_sentiment"], y_m
                )
            )
            for key in keys
        )


def self_mm_inputs(audio_dim, vision_dim):
    """The named `keras.Input`s of Self-MI and MCER (any sequence lengths):
    `msa_model.sequence_inputs` and the training-sample `index` that keys
    the label state."""
    return {
        **msa_model.sequence_inputs(audio_dim, vision_dim),
        "index": keras.Input((), dtype="int32", name="index"),
    }


def _post_layer(width, dropout, name):
    return mlp_fusion.MLPFusion(
        width,
        num_layers=1,
        activation="relu",
        dropout=dropout,
        kernel_initializer="glorot_uniform",
        name=name,
    )

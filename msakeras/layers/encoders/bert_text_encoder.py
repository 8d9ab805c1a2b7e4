"""`BertTextEncoder`: token states and the first-token vector of BERT."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class BertTextEncoder(keras.layers.Layer):
    """Encodes token ids with a keras-hub BERT backbone.

    Returns the last layer's token states and its first-token (`[CLS]`)
    vector, `last_hidden_state[:, 0]`, which MMIM, Self-MM, Self-MI and MCER
    use as the text representation (not the pooler output;
    `docs/building_blocks.md`).
    The pooler is frozen so that fine-tuning raises no "no gradients"
    warning. Segment ids default to zeros.

    Args:
        backbone: `keras_hub.models.BertBackbone` (or
            `ExactGeluBertBackbone`). Build one with
            `msakeras.layers.load_bert_backbone(source)`.
        fine_tune: bool. Whether the backbone's weights train. Defaults to
            `True` (all five references fine-tune BERT).

    Call arguments:
        token_ids: int `(batch, steps)`, `[CLS] ... [SEP]` right-padded with 0.
        padding_mask: int/bool `(batch, steps)`, 1 = real token.
        segment_ids: optional int `(batch, steps)`; zeros when omitted.

    Returns:
        dict with `sequence` `(batch, steps, hidden_dim)` and `cls`
        `(batch, hidden_dim)`.

    Example:

    ```python
    encoder = BertTextEncoder(load_bert_backbone())  # bundled MiniLM
    outputs = encoder(token_ids, padding_mask)
    outputs["cls"].shape  # (batch, 384)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, https://arxiv.org/abs/1810.04805
    """

    def __init__(self, backbone, fine_tune=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(backbone, dict):
            backbone = keras.layers.deserialize(backbone)
        if not hasattr(backbone, "hidden_dim"):
            raise ValueError(
                "`backbone` must be a keras-hub BertBackbone; received "
                f"{type(backbone).__name__}."
            )
        self.backbone = backbone
        self.fine_tune = fine_tune
        self.backbone.trainable = fine_tune
        self.backbone.pooled_dense.trainable = False

    @property
    def hidden_dim(self):
        return self.backbone.hidden_dim

    def build(
        self, token_ids_shape, padding_mask_shape=None, segment_ids_shape=None
    ):
        if token_ids_shape[-1] is not None and (
            token_ids_shape[-1] > self.backbone.max_sequence_length
        ):
            raise ValueError(
                f"Token sequences of length {token_ids_shape[-1]} exceed "
                "the backbone's `max_sequence_length` "
                f"({self.backbone.max_sequence_length})."
            )
        self.built = True

    def call(self, token_ids, padding_mask, segment_ids=None):
        if segment_ids is None:
            segment_ids = ops.zeros_like(token_ids)
        outputs = self.backbone(
            {
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            }
        )
        sequence = outputs["sequence_output"]
        return {"sequence": sequence, "cls": sequence[:, 0, :]}

    def compute_output_shape(
        self, token_ids_shape, padding_mask_shape=None, segment_ids_shape=None
    ):
        batch, steps = token_ids_shape[0], token_ids_shape[1]
        return {
            "sequence": (batch, steps, self.hidden_dim),
            "cls": (batch, self.hidden_dim),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": keras.layers.serialize(self.backbone),
            "fine_tune": self.fine_tune,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)

"""`HyConModel`: hybrid contrastive learning of tri-modal representation."""

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.common import last_valid_step as last_valid_step_layer
from msakeras.layers.encoders import conv1d_projection
from msakeras.layers.encoders import mult_transformer_encoder
from msakeras.layers.fusion import addition_fusion
from msakeras.layers.fusion import concatenation_fusion
from msakeras.layers.fusion import graph_fusion
from msakeras.layers.fusion import tensor_fusion
from msakeras.losses import modality_contrastive_ops
from msakeras.models import msa_model
from msakeras.models.common import argument_checks
from msakeras.models.hycon import hycon_presets

MODALITIES = ("text", "audio", "vision")
FUSIONS = ("add", "concat", "tensor", "graph")


@keras.saving.register_keras_serializable(package="msakeras")
class HyConModel(msa_model.MSAModel):
    """HyCon: unimodal encoders, simple fusion, hybrid contrastive training.

    Architecture (`docs/models/hycon.md`, paper eqs. 1-2; the encoder is
    inferred from the authors' MIB/MCL code, GAP: no HyCon code exists):

    - text: BERT last-layer token states, `Conv1d(→ d, kernel 3, no bias)`
      over time (`Conv1DProjection`), then the last time step: `x^l`.
    - audio, vision: `Conv1d(→ d, kernel 3, no bias)`, a MulT transformer
      encoder (`docs/building_blocks.md`; 3 layers, 5 heads, dropouts 0.5
      attention,
      0.3 ReLU, 0.3 residual, 0.2 embedding), then the last time step:
      `x^a`, `x^v`. All widths are `d = 50`.
    - "Last time step": the proxy code takes index `T-1` whatever the true
      length (MAG-BERT data, all sequences padded to 50). DECISION:
      `last_valid_step=True` (default here, for our right-padded HDF5
      data, where index `T-1` of a short row is padding) takes each row's
      last *valid* step; `last_valid_step=False` takes index `T-1` (the
      reference).
    - Key padding: the proxy MulT encoder attends to every step, padding
      included. DECISION: `key_padding_mask=True` (default) masks padded
      keys in the audio/vision encoders, so padding never changes a valid
      step; `key_padding_mask=False` attends to all keys (the reference).
      Either way the masks zero padded steps in the projections and the
      positions.
      `last_valid_step=False, key_padding_mask=False` is the reference.
    - fusion (`fusion=`, Table 4): `"add"` `x^l + x^a + x^v` (default,
      `AdditionFusion`), `"concat"` (`ConcatenationFusion`), `"tensor"`
      (TFN outer product, `TensorFusion`), `"graph"` (ARGF graph fusion,
      `GraphFusion`); then `ŷ = Linear(→ 1)` (GAP: the head after the
      fusion is not given; the minimal reading).

    Objective (eq. 14): `L = MAE(ŷ, y) + λ1 L_IAMCL + λ2 L_IEMCL +
    λ3 L_SCL`, the contrastive terms (eqs. 6-13) on `x^l, x^a, x^v` before
    fusion, from `msakeras.losses.hybrid_contrastive_terms`; `compute_loss`
    adds them whenever labels are given (training and evaluation) and
    tracks each term (`iamcl_loss`, `iemcl_loss`, `scl_loss`,
    `hybrid_loss`, with `val_` versions in `history`). They have no
    parameters, so inference is unaffected. `sample_weight` weights the
    MAE only.

    Args:
        text_encoder: `BertTextEncoder` (or a layer with the same call
            returning a `"sequence"`).
        audio_dim: int. Audio feature width (MAG-BERT MOSI 74; MMSA 5).
        vision_dim: int. Vision feature width (MAG-BERT MOSI 47; MMSA 20).
        hidden_dim: int. `d`, the unimodal width. Defaults to `50`.
        kernel_size: int. Temporal kernel of the projections. Defaults to
            `3`.
        num_heads: int. Heads of the audio/vision transformers. Defaults
            to `5`.
        num_layers: int. Layers of each transformer. Defaults to `3`.
        attention_dropout: float. Defaults to `0.5`.
        relu_dropout: float. Defaults to `0.3`.
        residual_dropout: float. Defaults to `0.3`.
        embedding_dropout: float. Defaults to `0.2` (MIB; MCL 0.3).
        last_valid_step: bool. Gather each row's last valid step (`True`)
            or index `T-1` (`False`, the proxy code). Defaults to `True`.
        key_padding_mask: bool. Mask padded keys in the audio/vision MulT
            encoders (`True`) or attend to every step (`False`, the proxy
            code). Defaults to `True`.
        fusion: str. `"add"`, `"concat"`, `"tensor"` or `"graph"`.
            Defaults to `"add"`.
        graph_hidden_dim: int. Hidden width of `GraphFusion`'s node MLPs.
            Defaults to `64`.
        margin: float. α, the modality margin of SCL and IEMCL (`1.0` is
            the "W/O modality margin" ablation). Defaults to `0.8`.
        intra_modal_weight: float. λ1 (IAMCL). Defaults to `1.0`.
        inter_modal_weight: float. λ2 (IEMCL). Defaults to `1.0`.
        semi_contrastive_weight: float. λ3 (SCL). Defaults to `1.0`. All
            three at 0 is the "W/O contrast learning" ablation.
        refinement: bool. Refinement terms of IAMCL/IEMCL (eqs. 8, 11).
            Defaults to `True`.
        similarity: str. `"shifted_cosine"` (`(1 + cos)/2`, DECISION) or
            `"cosine"`. Defaults to `"shifted_cosine"`.
        zero_label_class: str. `"non_negative"`, `"non_positive"` or
            `"exclude"` (GAP). Defaults to `"non_negative"`.
        anchor_reduction: str. `"mean"` over anchors (DECISION) or `"sum"`.
            Defaults to `"mean"`.

    Inputs: `text_token_ids`, `text_padding_mask` `(batch, tokens)`;
    `audio` `(batch, frames, audio_dim)`, `audio_mask`; `vision`
    `(batch, frames, vision_dim)`, `vision_mask` (masks 1 = valid, right
    padded).

    Outputs: `sentiment` `(batch, 1)`, `fused_embedding`,
    `text_embedding`, `audio_embedding`, `vision_embedding` `(batch, d)`.

    Example:

    ```python
    backbone = msakeras.layers.load_bert_backbone()  # bundled MiniLM
    model = msakeras.models.HyConModel(
        msakeras.layers.BertTextEncoder(backbone), audio_dim=5,
        vision_dim=20, fusion="add")
    model.compile(optimizer=keras.optimizers.Adam(1e-5))  # paper §4.4
    model.fit(train, validation_data=valid, epochs=50)
    ```

    Reference:
        Mai, Zeng, Zheng, Hu, "Hybrid Contrastive Learning of Tri-Modal
        Representation for Multimodal Sentiment Analysis", IEEE TAFFC 2023,
        https://arxiv.org/abs/2109.01797
    """

    replica_split_refusal = (
        "its intra-/inter-modal and semi-contrastive losses (eq. 5-9) "
        "compare every pair of samples in the batch; on one replica they "
        "would see only that replica's pairs (not gathered over replicas)"
    )

    # `self.fusion` is the fusion layer; the argument is kept here.
    config_attribute_names = {"fusion": "fusion_type"}
    presets_module = hycon_presets

    def __init__(
        self,
        text_encoder,
        audio_dim,
        vision_dim,
        hidden_dim=50,
        kernel_size=3,
        num_heads=5,
        num_layers=3,
        attention_dropout=0.5,
        relu_dropout=0.3,
        residual_dropout=0.3,
        embedding_dropout=0.2,
        last_valid_step=True,
        key_padding_mask=True,
        fusion="add",
        graph_hidden_dim=64,
        margin=0.8,
        intra_modal_weight=1.0,
        inter_modal_weight=1.0,
        semi_contrastive_weight=1.0,
        refinement=True,
        similarity="shifted_cosine",
        zero_label_class="non_negative",
        anchor_reduction="mean",
        **kwargs,
    ):
        argument_checks.check_choice("fusion", fusion, FUSIONS)
        argument_checks.check_non_negative(
            intra_modal_weight=intra_modal_weight,
            inter_modal_weight=inter_modal_weight,
            semi_contrastive_weight=semi_contrastive_weight,
        )
        modality_contrastive_ops.validate_options(
            similarity, zero_label_class, anchor_reduction
        )
        # === Layers ===
        self.text_encoder = text_encoder
        self.projections = {
            modality: conv1d_projection.Conv1DProjection(
                hidden_dim,
                kernel_size=kernel_size,
                padding="same",
                name=f"{modality}_projection",
            )
            for modality in MODALITIES
        }
        self.sequence_encoders = {
            modality: mult_transformer_encoder.MulTTransformerEncoder(
                hidden_dim,
                num_heads=num_heads,
                num_layers=num_layers,
                attention_dropout=attention_dropout,
                relu_dropout=relu_dropout,
                residual_dropout=residual_dropout,
                embedding_dropout=embedding_dropout,
                use_key_padding_mask=key_padding_mask,
                name=f"{modality}_encoder",
            )
            for modality in ("audio", "vision")
        }
        self.last_steps = {
            modality: last_valid_step_layer.LastValidStep(
                name=f"{modality}_last_step"
            )
            for modality in MODALITIES
        }
        self.fusion = _make_fusion(fusion, graph_hidden_dim)
        self.sentiment_head = keras.layers.Dense(1, name="sentiment_head")

        # === Functional model ===
        inputs = hycon_inputs(audio_dim, vision_dim)
        embeddings = self._embed(inputs, last_valid_step)
        fused = self.fusion([embeddings[modality] for modality in MODALITIES])
        outputs = {
            "sentiment": self.sentiment_head(fused),
            "fused_embedding": fused,
            **{
                f"{modality}_embedding": embeddings[modality]
                for modality in MODALITIES
            },
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.audio_dim = audio_dim
        self.vision_dim = vision_dim
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.attention_dropout = attention_dropout
        self.relu_dropout = relu_dropout
        self.residual_dropout = residual_dropout
        self.embedding_dropout = embedding_dropout
        self.last_valid_step = last_valid_step
        self.key_padding_mask = key_padding_mask
        self.fusion_type = fusion
        self.graph_hidden_dim = graph_hidden_dim
        self.margin = margin
        self.intra_modal_weight = intra_modal_weight
        self.inter_modal_weight = inter_modal_weight
        self.semi_contrastive_weight = semi_contrastive_weight
        self.refinement = refinement
        self.similarity = similarity
        self.zero_label_class = zero_label_class
        self.anchor_reduction = anchor_reduction

        # === Objectives ===
        self.iamcl_tracker = keras.metrics.Mean(name="iamcl_loss")
        self.iemcl_tracker = keras.metrics.Mean(name="iemcl_loss")
        self.scl_tracker = keras.metrics.Mean(name="scl_loss")
        self.hybrid_tracker = keras.metrics.Mean(name="hybrid_loss")

    def _embed(self, inputs, use_last_valid_step):
        masks = {
            "text": inputs["text_padding_mask"],
            "audio": inputs["audio_mask"],
            "vision": inputs["vision_mask"],
        }
        sequences = {
            "text": self.text_encoder(
                inputs["text_token_ids"], inputs["text_padding_mask"]
            )["sequence"],
            "audio": inputs["audio"],
            "vision": inputs["vision"],
        }
        embeddings = {}
        for modality in MODALITIES:
            mask = masks[modality]
            hidden = self.projections[modality](sequences[modality], mask=mask)
            if modality in self.sequence_encoders:
                hidden = self.sequence_encoders[modality](hidden, mask=mask)
            embeddings[modality] = self.last_steps[modality](
                hidden, mask=mask if use_last_valid_step else None
            )
        return embeddings

    # --- objectives --------------------------------------------------------
    def auxiliary_loss(self, x, y, y_pred, training):
        """The hybrid contrastive loss, eq. 13: weighted IAMCL + IEMCL + SCL."""
        if y is None or not isinstance(y_pred, dict):
            return None
        terms = losses.hybrid_contrastive_terms(
            ops.reshape(ops.cast(y, "float32"), (-1,)),
            ops.stack(
                [y_pred[f"{modality}_embedding"] for modality in MODALITIES],
                axis=1,
            ),
            margin=self.margin,
            refinement=self.refinement,
            similarity=self.similarity,
            zero_label_class=self.zero_label_class,
            anchor_reduction=self.anchor_reduction,
        )
        iamcl = ops.mean(terms["intra_modal"])
        iemcl = ops.mean(terms["inter_modal"])
        scl = ops.mean(terms["semi"])
        hybrid = (
            self.intra_modal_weight * iamcl
            + self.inter_modal_weight * iemcl
            + self.semi_contrastive_weight * scl
        )
        self.iamcl_tracker.update_state(iamcl)
        self.iemcl_tracker.update_state(iemcl)
        self.scl_tracker.update_state(scl)
        self.hybrid_tracker.update_state(hybrid)
        return hybrid


def _make_fusion(fusion, graph_hidden_dim):
    if fusion == "add":
        return addition_fusion.AdditionFusion(name="fusion")
    if fusion == "concat":
        return concatenation_fusion.ConcatenationFusion(name="fusion")
    if fusion == "tensor":
        return tensor_fusion.TensorFusion(name="fusion")
    return graph_fusion.GraphFusion(hidden_dim=graph_hidden_dim, name="fusion")


def hycon_inputs(audio_dim, vision_dim):
    """The named `keras.Input`s of HyCon (any sequence lengths)."""
    return msa_model.sequence_inputs(audio_dim, vision_dim)

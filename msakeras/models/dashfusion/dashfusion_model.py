"""`DashFusionModel`: dual-stream alignment with hierarchical fusion."""

import keras
from keras import ops

from msakeras.layers.common import masked_mean_pooling
from msakeras.layers.fusion import hierarchical_bottleneck_fusion
from msakeras.models import msa_model
from msakeras.models.common import argument_checks
from msakeras.models.dashfusion import dashfusion_layers
from msakeras.models.dashfusion import dashfusion_presets


@keras.saving.register_keras_serializable(package="msakeras")
class DashFusionModel(msa_model.MSAModel):
    """DashFusion (Wen et al., TNNLS 2025), as the official code runs it.

    Four blocks (`docs/models/dashfusion.md`):

    1. **Encoders** at width `hidden_dim` (128): BERT token states through
       `DashFusionTextProjector` (`X_t`); audio and vision through
       `DashFusionSequenceEncoder` (linear, `[CLS]`, learned positions,
       `num_encoder_layers` post-LN transformer layers: 2 for MOSI/SIMS, 4
       for MOSEI as the official README corrects the paper's 1/3). Global
       vectors `x̄_m` are masked means (eq. 5's average pooling).
    2. **Dual-stream alignment**: temporal, `H = X_t + CA(X_t, X_a) +
       CA(X_t, X_v)` (eq. 4, `TemporalAlignment`); semantic, an NT-Xent
       between `x̄_t` and `x̄_a`, `x̄_v` (eq. 5).
    3. **Supervised contrastive learning** on `x̄_t, x̄_v, x̄_a` and
       `h_f = H[:, 0]` with same-class positives and hard negatives,
       unified with 2. in one NT-Xent `L_con` (eq. 11,
       `dashfusion_contrastive_loss`).
    4. **Hierarchical bottleneck fusion** (eqs. 6-9,
       `HierarchicalBottleneckFusion`) and the regression head
       `Dense(256) → GELU → Dense(128) → GELU → Dense(1)` (official GELU;
       the paper says ReLU).

    Loss (eq. 12): `L = L_pred + contrastive_weight · L_con` with
    `L_pred` the compiled loss (`compile()` defaults to MSE, eq. 10) and
    λ = 0.2. `L_con` is added in training only (the official evaluation
    has no contrastive term); it is tracked as `contrastive_loss`, with its
    parts `semantic_alignment_loss` and `supervised_contrastive_loss`
    (means over their own pairs), in the progress bar and `history`.

    **Partners.** The official code draws, for each anchor, 2 same-class
    similar ("ss"), 2 different-class dissimilar ("dd") and 2
    different-class similar ("sd") training samples by feature similarity
    and encodes them with the anchors. Here
    `msakeras.data.ContrastivePairSampler` serves such batches,
    role-major (`[anchors; ss; dd; sd]`, labels for the anchors only);
    build the model with `partners_per_role=2` to train on them. The
    sentiment loss and metrics use the anchor rows only (the first
    `len(y)`). GAP: the functional graph also runs the head and the fusion
    on partner rows (the official code does not; outputs for anchors are
    unaffected). With `partners_per_role=0` (default) any plain `fit(x, y)`
    works and the supervised pairs are derived in-batch from the labels
    (same class positive, other class negative; GAP, not in the paper).

    Key masks: the audio/vision encoders mask padded keys (official
    `src_key_padding_mask`). The temporal alignment and the HBF do not by
    default, as the official `layers.py` (padded steps are zero vectors
    there, and the biased key projections of the HBF blocks turn them into
    bias vectors that take part in every softmax). `mask_attention=True`
    masks them too (an option; padded steps then never enter a softmax).

    Args:
        text_encoder: `msakeras.layers.BertTextEncoder`.
        audio_dim: int. Audio features per frame.
        vision_dim: int. Vision features per frame.
        hidden_dim: int. Model width `d`. Defaults to `128`.
        num_heads: int. Heads of encoders and HBF. Defaults to `8`.
        intermediate_dim: int. FFN width. Defaults to `256`.
        num_encoder_layers: int. Audio/vision transformer layers. Defaults
            to `2` (MOSI, SIMS; 4 for MOSEI).
        encoder_dropout: float. Encoder transformer dropout. Defaults to
            `0.5` (official).
        position_dropout: float. Defaults to `0.1`.
        max_audio_length, max_vision_length: int. Longest supported
            sequences (position tables). Default to `500`.
        temporal_num_heads, temporal_head_dim: int. Temporal-alignment
            attention. Default to `8` and `32`.
        num_fusion_layers: int. HBF depth `D`. Defaults to `2` (3 MOSEI).
        num_bottleneck_tokens: int. `p`. Defaults to `8`.
        contrastive_weight: float. λ. Defaults to `0.2`.
        temperature: float. τ. Defaults to `0.5`.
        partners_per_role: int. Sampler partners per role in each training
            batch (`ContrastivePairSampler`); `0` = plain batches.
            Defaults to `0`.
        round_labels: bool. In-batch classes are `round(y)` (MOSI, MOSEI);
            `False` compares raw labels (SIMS). Defaults to `True`.
        temporal_alignment: bool. Ablation "w/o temporal alignment" when
            `False` (`H = X_t`). Defaults to `True`.
        semantic_alignment: bool. Ablation "w/o semantic alignment" when
            `False` (no cross-modal pairs). Defaults to `True`.
        supervised_contrastive: bool. Ablation "w/o SCL" when `False` (no
            label-derived pairs). Defaults to `True`.
        fusion: str. `"hbf"`, or `"concat"` for the ablation "w/o HBF"
            (Table V "Concat": `[h_f; X_t[:,0]; X_v[:,0]; X_a[:,0]]` to the
            same head; GAP: which vectors the paper concatenates is not
            stated). Defaults to `"hbf"`.
        mask_attention: bool. Mask padded keys in the temporal alignment
            and the HBF (see "Key masks" above). Defaults to `False`
            (official).

    Inputs: `text_token_ids`, `text_padding_mask` `(batch, text_steps)`,
    `audio` `(batch, audio_steps, audio_dim)`, `audio_mask`, `vision`,
    `vision_mask` (masks int, 1 = valid, right-padded).

    Outputs: `sentiment` `(batch, 1)`; `text_embedding`,
    `audio_embedding`, `vision_embedding` (`x̄_m`, `(batch, d)`; the
    sampler's similarity uses `[x̄_t; x̄_v; x̄_a]`); `aligned_embedding`
    (`h_f`, `(batch, d)`); `fused_embedding` (`(batch, 4d)`).

    Example:

    ```python
    model = msakeras.models.DashFusionModel(
        text_encoder=msakeras.layers.BertTextEncoder(
            msakeras.layers.load_bert_backbone()),
        audio_dim=5, vision_dim=20)
    model.compile(optimizer=make_dashfusion_optimizer(model, ...))
    model.fit(train, validation_data=valid, epochs=100)
    ```

    Reference:
        Wen et al., "DashFusion: Dual-stream Alignment with Hierarchical
        Bottleneck Fusion for Multimodal Sentiment Analysis", IEEE TNNLS
        2025, https://github.com/ultramarineX/DashFusion
    """

    replica_split_refusal = (
        "its contrastive loss pairs each anchor with partners that the "
        "ContrastivePairSampler appends to the global batch; a replica's "
        "slice would hold anchors without their partners, and the "
        "in-batch supervised-contrastive negatives are not gathered"
    )

    presets_module = dashfusion_presets

    def __init__(
        self,
        text_encoder,
        audio_dim,
        vision_dim,
        hidden_dim=128,
        num_heads=8,
        intermediate_dim=256,
        num_encoder_layers=2,
        encoder_dropout=0.5,
        position_dropout=0.1,
        max_audio_length=500,
        max_vision_length=500,
        temporal_num_heads=8,
        temporal_head_dim=32,
        num_fusion_layers=2,
        num_bottleneck_tokens=8,
        contrastive_weight=0.2,
        temperature=0.5,
        partners_per_role=0,
        round_labels=True,
        temporal_alignment=True,
        semantic_alignment=True,
        supervised_contrastive=True,
        fusion="hbf",
        mask_attention=False,
        **kwargs,
    ):
        argument_checks.check_choice("fusion", fusion, ("hbf", "concat"))
        argument_checks.check_non_negative(partners_per_role=partners_per_role)
        # === Layers ===
        self.text_encoder = text_encoder
        self.text_projector = dashfusion_layers.DashFusionTextProjector(
            hidden_dim, name="text_projector"
        )
        encoder_kwargs = dict(
            hidden_dim=hidden_dim,
            num_layers=num_encoder_layers,
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout=encoder_dropout,
            position_dropout=position_dropout,
        )
        self.audio_encoder = dashfusion_layers.DashFusionSequenceEncoder(
            max_length=max_audio_length, name="audio_encoder", **encoder_kwargs
        )
        self.vision_encoder = dashfusion_layers.DashFusionSequenceEncoder(
            max_length=max_vision_length,
            name="vision_encoder",
            **encoder_kwargs,
        )
        if temporal_alignment:
            self.temporal_alignment_layer = dashfusion_layers.TemporalAlignment(
                temporal_num_heads, temporal_head_dim, name="temporal_alignment"
            )
        if fusion == "hbf":
            self.fusion_layer = (
                hierarchical_bottleneck_fusion.HierarchicalBottleneckFusion(
                    num_layers=num_fusion_layers,
                    num_bottleneck_tokens=num_bottleneck_tokens,
                    num_heads=num_heads,
                    intermediate_dim=intermediate_dim,
                    name="hierarchical_bottleneck_fusion",
                )
            )
        self.head_layers = [
            keras.layers.Dense(256, activation="gelu", name="head_dense_0"),
            keras.layers.Dense(128, activation="gelu", name="head_dense_1"),
            keras.layers.Dense(1, name="sentiment"),
        ]

        # === Functional model ===
        inputs = {
            "text_token_ids": keras.Input(
                (None,), dtype="int32", name="text_token_ids"
            ),
            "text_padding_mask": keras.Input(
                (None,), dtype="int32", name="text_padding_mask"
            ),
            "audio": keras.Input((None, audio_dim), name="audio"),
            "audio_mask": keras.Input(
                (None,), dtype="int32", name="audio_mask"
            ),
            "vision": keras.Input((None, vision_dim), name="vision"),
            "vision_mask": keras.Input(
                (None,), dtype="int32", name="vision_mask"
            ),
        }
        text_mask = inputs["text_padding_mask"]
        text_states = self.text_encoder(inputs["text_token_ids"], text_mask)[
            "sequence"
        ]
        text = self.text_projector(text_states, text_mask)
        audio_outputs = self.audio_encoder(
            inputs["audio"], inputs["audio_mask"]
        )
        vision_outputs = self.vision_encoder(
            inputs["vision"], inputs["vision_mask"]
        )
        audio, audio_mask = audio_outputs["sequence"], audio_outputs["mask"]
        vision, vision_mask = (
            vision_outputs["sequence"],
            vision_outputs["mask"],
        )
        pooling = masked_mean_pooling.MaskedMeanPooling
        text_embedding = pooling(name="text_pooling")(text, mask=text_mask)
        audio_embedding = pooling(name="audio_pooling")(audio, mask=audio_mask)
        vision_embedding = pooling(name="vision_pooling")(
            vision, mask=vision_mask
        )
        key_masks = {}
        if mask_attention:
            key_masks = {"audio_mask": audio_mask, "vision_mask": vision_mask}
        if temporal_alignment:
            aligned = self.temporal_alignment_layer(
                text, audio, vision, **key_masks
            )
        else:
            aligned = text
        aligned_embedding = dashfusion_layers.FirstToken(
            name="aligned_first_token"
        )(aligned)
        if fusion == "hbf":
            if mask_attention:
                key_masks["text_mask"] = text_mask
            fused = self.fusion_layer(aligned, text, audio, vision, **key_masks)
        else:
            fused = keras.layers.Concatenate(name="fusion_concatenation")(
                [
                    aligned_embedding,
                    dashfusion_layers.FirstToken(name="text_first_token")(text),
                    dashfusion_layers.FirstToken(name="vision_first_token")(
                        vision
                    ),
                    dashfusion_layers.FirstToken(name="audio_first_token")(
                        audio
                    ),
                ]
            )
        sentiment = fused
        for layer in self.head_layers:
            sentiment = layer(sentiment)
        outputs = {
            "sentiment": sentiment,
            "text_embedding": text_embedding,
            "audio_embedding": audio_embedding,
            "vision_embedding": vision_embedding,
            "aligned_embedding": aligned_embedding,
            "fused_embedding": fused,
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.audio_dim = audio_dim
        self.vision_dim = vision_dim
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_encoder_layers = num_encoder_layers
        self.encoder_dropout = encoder_dropout
        self.position_dropout = position_dropout
        self.max_audio_length = max_audio_length
        self.max_vision_length = max_vision_length
        self.temporal_num_heads = temporal_num_heads
        self.temporal_head_dim = temporal_head_dim
        self.num_fusion_layers = num_fusion_layers
        self.num_bottleneck_tokens = num_bottleneck_tokens
        self.contrastive_weight = contrastive_weight
        self.temperature = temperature
        self.partners_per_role = partners_per_role
        self.round_labels = round_labels
        self.temporal_alignment = temporal_alignment
        self.semantic_alignment = semantic_alignment
        self.supervised_contrastive = supervised_contrastive
        self.fusion = fusion
        self.mask_attention = mask_attention

        # === Objectives ===
        self.contrastive_tracker = keras.metrics.Mean(name="contrastive_loss")
        self.semantic_alignment_tracker = keras.metrics.Mean(
            name="semantic_alignment_loss"
        )
        self.supervised_contrastive_tracker = keras.metrics.Mean(
            name="supervised_contrastive_loss"
        )

    @property
    def uses_contrastive_term(self):
        return bool(self.contrastive_weight) and (
            self.semantic_alignment or self.supervised_contrastive
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        if loss == "auto":  # eq. 10: the official prediction loss is MSE
            loss = keras.losses.MeanSquaredError()
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def supervised_prediction(self, y_pred, y):
        """`y_pred["sentiment"]` of the anchor rows (the first `len(y)`)."""
        sentiment = self._sentiment(y_pred)
        if y is None:
            return sentiment
        num_anchors = ops.shape(keras.tree.flatten(y)[0])[0]
        return sentiment[:num_anchors]

    def auxiliary_loss(self, x, y, y_pred, training):
        """`contrastive_weight·L_con` of eq. 12 in training; its parts are
        tracked in evaluation too."""
        if not self.uses_contrastive_term or y is None:
            return None
        terms = dashfusion_layers.dashfusion_contrastive_loss(
            {
                "text": y_pred["text_embedding"],
                "vision": y_pred["vision_embedding"],
                "audio": y_pred["audio_embedding"],
                "aligned": y_pred["aligned_embedding"],
            },
            labels=y,
            partners_per_role=self.partners_per_role,
            temperature=self.temperature,
            round_labels=self.round_labels,
            semantic_alignment=self.semantic_alignment,
            supervised_contrastive=self.supervised_contrastive,
        )
        self.contrastive_tracker.update_state(terms["contrastive"])
        self.semantic_alignment_tracker.update_state(
            terms["semantic_alignment"]
        )
        self.supervised_contrastive_tracker.update_state(
            terms["supervised_contrastive"]
        )
        if not training:  # the official evaluation has no contrastive term
            return None
        return self.contrastive_weight * terms["contrastive"]

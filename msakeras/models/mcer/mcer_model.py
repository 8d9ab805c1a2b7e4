"""`MCERModel`: modality-complementary, redundancy-eliminating MSA."""

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.bottleneck import variational_bottleneck
from msakeras.layers.common import last_valid_step
from msakeras.layers.common import masked_frame_pooling
from msakeras.layers.common import masked_mean_pooling
from msakeras.layers.encoders import bigru_sequence_encoder
from msakeras.layers.estimators import barber_agakov_bound
from msakeras.layers.fusion import gated_cross_modal_transformer
from msakeras.layers.state import unimodal_label_generator
from msakeras.models import msa_model
from msakeras.models.common import argument_checks
from msakeras.models.common import barber_agakov_two_stage
from msakeras.models.common import self_mm_features
from msakeras.models.mcer import mcer_presets
from msakeras.optimizers import self_mm_optimizer

MODALITIES = self_mm_features.MODALITIES
# The gated transformer pairs (first, second) and which cross-modal task
# reads which pair: "m_t ← [H_TA; H_TV]", "m_a ← [H_TA; H_AV]",
# "m_v ← [H_TV; H_AV]" (`docs/models/mcer.md` step 4).
PAIRS = (("text", "audio"), ("text", "vision"), ("audio", "vision"))
TASK_PAIRS = {
    "text": (("text", "audio"), ("text", "vision")),
    "audio": (("text", "audio"), ("audio", "vision")),
    "vision": (("text", "vision"), ("audio", "vision")),
}
HEAD_REPRESENTATIONS = ("first", "masked_mean")
# The MMILB critics' variable paths (frozen in the main optimizer when
# `mmim_two_stage=True`).
MMILB_PATTERN = barber_agakov_bound.MMILB_PATTERN


@keras.saving.register_keras_serializable(package="msakeras")
class MCERModel(msa_model.MSAModel):
    """MCER: multimodal, unimodal and cross-modal tasks with bottlenecks.

    No public code exists; the model is assembled from its references
    (`docs/models/mcer.md`): Self-MM (encoders, post layers, ULGM = SLGM /
    CLGM),
    MMIM (`L_MI`), MIB (the VIB heads of M-MIB / S-MIB) and BBFN, MCER's
    ref. [15] (gated cross-modal transformer and modality discriminator).

    - Shared features (docs/models/mcer.md): `X_t` = BERT `[CLS]`; `X_a`, `X_v`
    = sLSTM
      final states + linear (Self-MM `AuViSubNet`). The sLSTMs, `F'_m`'s
      layer and the `H_s` layers are the composed `SelfMMFeatureEncoder`
      layer `self_mm_features`.
    - `L_MI` (docs/models/mcer.md): MMIM's BA bound `lld + H` for (text →
    vision) and
      (text → audio) with the 1-batch history memory, on `X_t, X_v, X_a`.
      DECISION: single stage (the critics learn from the total loss);
      `mmim_two_stage=True` runs MMIM's stage 1 at every epoch start and
      freezes the critics in the main optimizer.
    - Multimodal task, M-MIB (docs/models/mcer.md, eqs. 3–5, 23–26):
      `F'_m = ReLU(W_1 Dropout([X_t; X_a; X_v]))`, `u_m = W_2 F'_m + b_2`,
      `z_m = VIB(u_m)` (`VariationalBottleneck`, KL with weight α added by
      the layer in training), `ŷ_m = Linear(z_m)` (`sentiment`).
    - Unimodal task, S-MIB and SLGM (docs/models/mcer.md, eqs. 6–9, 27–29): per
    modality
      `H_s = ReLU(W^s_1 Dropout(X_s))`, `u_s`, `z_s = VIB(u_s)` (KL weight
      β), `ŷ_s`; SLGM is Self-MM's ULGM on `F'_m` and `H_s`
      (`UnimodalLabelGenerator`, named `slgm_state`).
    - Cross-modal task (docs/models/mcer.md, eqs. 10–22): `BiGRUSequenceEncoder`
    per
      modality on the BERT token states and the raw audio / vision frames
      (GAP: which sequences; BBFN's choice) gives `M_s^0` and `h_s`; one
      `GatedCrossModalTransformer` per pair (TA, TV, AV) with `L` levels,
      both directions, per-modality masks, and a modality discriminator
      per level. Heads: position 0 of each output sequence (BBFN, the
      default) or the masked mean (`head_representation="masked_mean"`;
      GAP: for unaligned frames position 0 is the first frame); then
      `m_t = [H_TA; H_TV]`, `m_a = [H_TA; H_AV]`, `m_v = [H_TV; H_AV]` with
      `H_pq = [head(M_p^{pq}); head(M_q^{pq})]`, `h_c = ReLU(W_c^1 m_c + b)`
      and `ŷ_c = W_c^2 h_c + b`. CLGM (eqs. 30–31) is the same ULGM on
      `F'_m` and `h_c` with its own tables and centres (`clgm_state`).
      `cross_modal_tasks` selects the tasks (Table V); an empty tuple is
      the "M, S" model and builds no cross-modal branch.

    Objective (eqs. 32–33; DECISION docs/models/mcer.md: KL terms enter
    positively and
    only eq. 33's weights apply):
    `L = MAE(ŷ_m, y_m) + Σ_s mean tanh(|y_s − y_m|)|ŷ_s − y_s|
    + Σ_c mean tanh(|y_c − y_m|)|ŷ_c − y_c| + α KL_m + β Σ_s KL_s
    + γ L_dc + η L_MI`, with `L_MI = −(lld_tv + lld_ta) − (H_tv + H_ta)`.
    The first term is the compiled loss on `sentiment`; the KL terms are
    the bottlenecks' `add_loss` terms (training only); `L_dc` is the mean
    discriminator BCE over levels, pairs and the `2B` items (GAP: eq. 22's
    factor `λK/(2L)` is not reproducible, γ absorbs the scale); the
    unimodal / cross-modal terms use the labels as they were before this
    batch's label update and run in training only (MMSA order). Trackers:
    `unimodal_loss`, `cross_modal_loss`, `discriminator_loss`, `lld`,
    `entropy`, `entropy_skipped_classes`.

    **State.** Both label generators are keyed by the `index` input and
    initialise themselves (see `UnimodalLabelGenerator`); `L_MI` is the
    composed `BarberAgakovBound` layer `ba_bound`, whose entropy memories
    are emptied at every epoch start by `training_callbacks()`
    (`BarberAgakovTwoStage`: `msakeras.training.EpochStartReset`, and
    `TwoStageFit` running stage 1 when `mmim_two_stage`). `compile()` with
    no optimizer uses `make_optimizers()` (Self-MM groups with MCER Table
    III rates, MOSI).

    Args:
        text_encoder: `BertTextEncoder` (or a layer with the same call).
        audio_dim, vision_dim: int. Feature widths.
        num_train_samples: int. Training-split size (label tables).
        audio_hidden_dim, vision_hidden_dim: int. sLSTM widths. Default 16.
        audio_output_dim, vision_output_dim: int or None. Widths of `X_a`,
            `X_v`; `None` = the LSTM width. Defaults to `None`.
        fusion_dim: int. Width of `F'_m`, `u_m`, `z_m`. Defaults to `128`.
        text_post_dim, audio_post_dim, vision_post_dim: int. Widths of
            `H_s`, `u_s`, `z_s`. Defaults `32`, `16`, `32` (Self-MM MOSI).
        fusion_dropout, text_dropout, audio_dropout, vision_dropout: float.
            Dropout before the post layers. Defaults `0.1`, `0.0`, `0.1`,
            `0.1`.
        bottleneck_hidden_dim: int. VIB hidden width. Defaults to `1024`
            (MIB; GAP).
        cross_modal_dim: int. `d` of the cross-modal branch. Defaults to
            `40` (BBFN; GAP).
        cross_modal_layers: int. `L`. Defaults to `2` (GAP).
        cross_modal_heads: int. Heads. Defaults to `5` (BBFN).
        cross_modal_dropout: float. Attention / residual / FFN dropout of
            the gated layers. Defaults to `0.1` (BBFN).
        sequence_recurrent_dim: int or None. BiGRU width of the sequence
            encoders; `None` = each input's width (BBFN: 768 for BERT-base).
            Defaults to `None`.
        frame_pool_size: int. Audio and vision frames enter the
            cross-modal branch as masked means over windows of this many
            frames (`MaskedFramePooling`; DEVIATION for speed, not in the
            paper or BBFN). Defaults to `1` (off).
        post_ln: bool. Post-LN gated layers (MCER eqs. 15–16). Defaults to
            `False` (BBFN's pre-LN, DECISION).
        first_control: `"linear"` (BBFN) or `"bigru"` (MCER eq. 11 at
            level 1 too). Defaults to `"linear"`.
        head_representation: `"first"` or `"masked_mean"`. Defaults to
            `"first"`.
        cross_head_dim: int. Width of `h_c`. Defaults to `64` (GAP).
        cross_modal_tasks: sequence of modalities whose dominated task is
            trained. Defaults to all three.
        fusion_kl_weight: float. α. Defaults to `1.9` (MOSI).
        unimodal_kl_weight: float. β. Defaults to `0.001` (MOSI).
        discriminator_weight: float. γ. Defaults to `0.05` (MOSI).
        mi_weight: float. η. Defaults to `0.1` (MOSI).
        full_gaussian_nll: bool. True Gaussian log-likelihood in `lld`.
            Defaults to `False` (MMIM's code form).
        memory_capacity: int. Rows of each entropy memory (≥ batch size).
            Defaults to `128`.
        mmim_two_stage: bool. MMIM's stage 1 every epoch. Defaults to
            `False`.
        label_range: float. `H` of the label generators (3 MOSI/MOSEI, 1
            SIMS). Defaults to `3.0`.
        exclude_zero: bool. Positive centres use labels `> 0`. Defaults to
            `True`.
        seed: int or None. Seed of the bottlenecks' noise. Defaults to
            `None`.

    Inputs: `text_token_ids`, `text_padding_mask`, `audio`, `audio_mask`,
    `vision`, `vision_mask` (right padded, 1 = valid) and `index`
    `(batch,)` int32, the training-sample id (any value at inference).

    Outputs: `sentiment`; `<modality>_sentiment` and `<modality>_embedding`
    (`H_s`); `fused_embedding` (`F'_m`); per cross-modal task `c`
    `cross_<c>_sentiment` and `cross_<c>_embedding` (`h_c`); per pair
    `discriminator_logits_<p>_<q>` `(batch, L, 2)`; `lld_text_vision`,
    `lld_text_audio` `(batch,)`; `entropy_projection_vision`,
    `entropy_projection_audio`.

    Example:

    ```python
    model = msakeras.models.MCERModel(
        msakeras.layers.BertTextEncoder(msakeras.layers.load_bert_backbone()),
        audio_dim=5, vision_dim=20, num_train_samples=1284)
    model.compile()
    model.fit(train, validation_data=valid, epochs=30)
    ```

    Reference:
        Zhao et al., "Modality-Complementary and Eliminating-Redundancy
        Multi-Task Learning for Multimodal Sentiment Analysis", IJCNN 2024;
        BBFN: Han et al., ICMI 2021, https://arxiv.org/abs/2107.13669
    """

    replica_split_refusal = (
        "the bottlenecks' KL terms come through add_loss and are not "
        "scaled for the engine's gradient reduction, each replica draws "
        "its own reparameterisation noise, its MMIM-style L_MI terms are "
        "not gathered over replicas, and the stage-one model of the "
        "two-stage option is not wrapped for DDP (its SLGM/CLGM label "
        "tables are already written from the gathered batch)"
    )
    jit_compile_unsupported = barber_agakov_bound.JIT_COMPILE_UNSUPPORTED

    config_attribute_names = self_mm_features.CONFIG_ATTRIBUTES
    presets_module = mcer_presets

    def __init__(
        self,
        text_encoder,
        audio_dim,
        vision_dim,
        num_train_samples,
        audio_hidden_dim=16,
        audio_output_dim=None,
        vision_hidden_dim=16,
        vision_output_dim=None,
        fusion_dim=128,
        text_post_dim=32,
        audio_post_dim=16,
        vision_post_dim=32,
        fusion_dropout=0.1,
        text_dropout=0.0,
        audio_dropout=0.1,
        vision_dropout=0.1,
        bottleneck_hidden_dim=1024,
        cross_modal_dim=40,
        cross_modal_layers=2,
        cross_modal_heads=5,
        cross_modal_dropout=0.1,
        sequence_recurrent_dim=None,
        frame_pool_size=1,
        post_ln=False,
        first_control="linear",
        head_representation="first",
        cross_head_dim=64,
        cross_modal_tasks=MODALITIES,
        fusion_kl_weight=1.9,
        unimodal_kl_weight=0.001,
        discriminator_weight=0.05,
        mi_weight=0.1,
        full_gaussian_nll=False,
        memory_capacity=128,
        mmim_two_stage=False,
        label_range=3.0,
        exclude_zero=True,
        seed=None,
        **kwargs,
    ):
        cross_modal_tasks = tuple(cross_modal_tasks)
        if not isinstance(frame_pool_size, int) or frame_pool_size < 1:
            raise ValueError(
                "`frame_pool_size` must be a positive int; received "
                f"{frame_pool_size!r}."
            )
        argument_checks.check_subset(
            "cross_modal_tasks", cross_modal_tasks, MODALITIES
        )
        argument_checks.check_choice(
            "head_representation", head_representation, HEAD_REPRESENTATIONS
        )
        argument_checks.check_non_negative(
            fusion_kl_weight=fusion_kl_weight,
            unimodal_kl_weight=unimodal_kl_weight,
            discriminator_weight=discriminator_weight,
            mi_weight=mi_weight,
        )
        pairs = [
            pair
            for pair in PAIRS
            if any(pair in TASK_PAIRS[task] for task in cross_modal_tasks)
        ]
        seeds = _SeedSequence(seed)

        # === Layers ===
        # Shared features, M-MIB's F'_m and S-MIB's H_s (Self-MM post
        # layers: Dropout, Linear, ReLU); then u, VIB, head per task.
        self.text_encoder = text_encoder
        self.self_mm_features = self_mm_features.feature_encoder(locals())
        widths = self_mm_features.feature_widths(self.self_mm_features)
        self.projections = {
            key: keras.layers.Dense(width, name=f"{key}_projection")
            for key, width in widths.items()
        }
        self.bottlenecks = {
            key: variational_bottleneck.VariationalBottleneck(
                width,
                hidden_dim=bottleneck_hidden_dim,
                kl_weight=(
                    fusion_kl_weight if key == "fusion" else unimodal_kl_weight
                ),
                seed=seeds.next(),
                name=f"{key}_bottleneck",
            )
            for key, width in widths.items()
        }
        self.heads = {
            key: keras.layers.Dense(1, name=f"{key}_head")
            for key in ("fusion",) + MODALITIES
        }
        self.slgm_state = unimodal_label_generator.UnimodalLabelGenerator(
            num_train_samples,
            modalities=MODALITIES,
            fusion_key="fusion",
            label_range=label_range,
            exclude_zero=exclude_zero,
            name="slgm_state",
        )
        # Cross-modal task.
        needed = sorted({modality for pair in pairs for modality in pair})
        self.sequence_encoders = {
            modality: bigru_sequence_encoder.BiGRUSequenceEncoder(
                cross_modal_dim,
                recurrent_dim=sequence_recurrent_dim,
                name=f"{modality}_sequence_encoder",
            )
            for modality in needed
        }
        gated_class = gated_cross_modal_transformer.GatedCrossModalTransformer
        self.gated_transformers = {
            f"{pair[0]}_{pair[1]}": gated_class(
                num_layers=cross_modal_layers,
                num_heads=cross_modal_heads,
                dropout=cross_modal_dropout,
                attention_dropout=cross_modal_dropout,
                post_ln=post_ln,
                first_control=first_control,
                name=f"gated_{pair[0]}_{pair[1]}",
            )
            for pair in pairs
        }
        # GAP/DEVIATION: optional masked mean over windows of frames before
        # the cross-modal branch (1 = off, the paper); the embedded recipe
        # run shortens 375/500-frame sequences with it.
        self.frame_pooling = None
        if frame_pool_size > 1:
            self.frame_pooling = masked_frame_pooling.MaskedFramePooling(
                frame_pool_size, name="frame_pooling"
            )
        if head_representation == "first":
            self.head_pooling = last_valid_step.LastValidStep(
                reverse=True, name="head_pooling"
            )
        else:
            self.head_pooling = masked_mean_pooling.MaskedMeanPooling(
                name="head_pooling"
            )
        self.cross_hidden = {
            task: keras.layers.Dense(
                cross_head_dim, activation="relu", name=f"cross_{task}_hidden"
            )
            for task in cross_modal_tasks
        }
        self.cross_heads = {
            task: keras.layers.Dense(1, name=f"cross_{task}_head")
            for task in cross_modal_tasks
        }
        if cross_modal_tasks:
            self.clgm_state = unimodal_label_generator.UnimodalLabelGenerator(
                num_train_samples,
                modalities=[f"cross_{task}" for task in cross_modal_tasks],
                fusion_key="fusion",
                label_range=label_range,
                exclude_zero=exclude_zero,
                name="clgm_state",
            )
        # L_MI: MMIM's critics and entropy memories.
        self.ba_bound = barber_agakov_bound.BarberAgakovBound(
            full_gaussian_nll=full_gaussian_nll,
            memory_capacity=memory_capacity,
            name="ba_bound",
        )

        # === Functional model ===
        inputs = mcer_inputs(audio_dim, vision_dim)
        masks = {
            "text": inputs["text_padding_mask"],
            "audio": inputs["audio_mask"],
            "vision": inputs["vision_mask"],
        }
        text, encoded, features = self_mm_features.encode(
            self.text_encoder, self.self_mm_features, inputs
        )
        # The state layers pass the features through; being in the graph
        # keeps their tables tracked, saved and in stateless backends' state.
        features = self.slgm_state(features, inputs["index"])
        outputs = {"fused_embedding": features["fusion"]}
        for key in ("fusion",) + MODALITIES:
            latent = self.bottlenecks[key](self.projections[key](features[key]))
            name = "sentiment" if key == "fusion" else f"{key}_sentiment"
            outputs[name] = self.heads[key](latent)
        for modality in MODALITIES:
            outputs[f"{modality}_embedding"] = features[modality]

        if cross_modal_tasks:
            sequences = {"text": text["sequence"]}
            cross_masks = dict(masks)
            for modality in ("audio", "vision"):
                if self.frame_pooling is None:
                    sequences[modality] = inputs[modality]
                    continue
                pooled = self.frame_pooling(
                    inputs[modality], mask=masks[modality]
                )
                sequences[modality] = pooled["sequence"]
                cross_masks[modality] = pooled["mask"]
            masks = cross_masks
            encoded_sequences = {
                modality: self.sequence_encoders[modality](
                    sequences[modality], mask=masks[modality]
                )
                for modality in needed
            }
            pair_heads = {}
            for pair in pairs:
                first, second = pair
                block = self.gated_transformers[f"{first}_{second}"]
                result = block(
                    encoded_sequences[first]["sequence"],
                    encoded_sequences[second]["sequence"],
                    encoded_sequences[first]["summary"],
                    encoded_sequences[second]["summary"],
                    first_mask=masks[first],
                    second_mask=masks[second],
                )
                outputs[f"discriminator_logits_{first}_{second}"] = result[
                    "discriminator_logits"
                ]
                pair_heads[pair] = [
                    self.head_pooling(result["first"], mask=masks[first]),
                    self.head_pooling(result["second"], mask=masks[second]),
                ]
            cross = {"fusion": features["fusion"]}
            for task in cross_modal_tasks:
                parts = [
                    part
                    for pair in TASK_PAIRS[task]
                    for part in pair_heads[pair]
                ]
                dominated = keras.layers.Concatenate(
                    axis=-1, name=f"cross_{task}_representation"
                )(parts)
                cross[f"cross_{task}"] = self.cross_hidden[task](dominated)
            cross = self.clgm_state(cross, inputs["index"])
            for task in cross_modal_tasks:
                outputs[f"cross_{task}_embedding"] = cross[f"cross_{task}"]
                outputs[f"cross_{task}_sentiment"] = self.cross_heads[task](
                    cross[f"cross_{task}"]
                )

        outputs.update(
            self.ba_bound(encoded["text"], encoded["vision"], encoded["audio"])
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.audio_dim = audio_dim
        self.vision_dim = vision_dim
        self.num_train_samples = num_train_samples
        self.bottleneck_hidden_dim = bottleneck_hidden_dim
        self.cross_modal_dim = cross_modal_dim
        self.cross_modal_layers = cross_modal_layers
        self.cross_modal_heads = cross_modal_heads
        self.cross_modal_dropout = cross_modal_dropout
        self.sequence_recurrent_dim = sequence_recurrent_dim
        self.frame_pool_size = frame_pool_size
        self.post_ln = post_ln
        self.first_control = first_control
        self.head_representation = head_representation
        self.cross_head_dim = cross_head_dim
        self.cross_modal_tasks = cross_modal_tasks
        self.fusion_kl_weight = fusion_kl_weight
        self.unimodal_kl_weight = unimodal_kl_weight
        self.discriminator_weight = discriminator_weight
        self.mi_weight = mi_weight
        self.full_gaussian_nll = full_gaussian_nll
        self.memory_capacity = memory_capacity
        self.mmim_two_stage = mmim_two_stage
        self.label_range = label_range
        self.exclude_zero = exclude_zero
        self.seed = seed
        self.pairs = pairs

        # === Objectives ===
        self.unimodal_tracker = keras.metrics.Mean(name="unimodal_loss")
        self.cross_modal_tracker = keras.metrics.Mean(name="cross_modal_loss")
        self.discriminator_tracker = keras.metrics.Mean(
            name="discriminator_loss"
        )

        # === Training procedure ===
        self.training_procedure = barber_agakov_two_stage.BarberAgakovTwoStage(
            self,
            self.ba_bound,
            inputs,
            encoded,
            lambda: self.make_optimizers()[1],
            enabled=mmim_two_stage,
        )

    # --- objectives --------------------------------------------------------
    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        # Compiled loss on `sentiment` (L_m-task) + the bottlenecks' KLs.
        loss = super().compute_loss(
            x=x,
            y=y,
            y_pred=y_pred,
            sample_weight=sample_weight,
            training=training,
        )
        if self.pairs:
            discrimination = self.discrimination_loss(y_pred)
            self.discriminator_tracker.update_state(discrimination)
            loss = loss + self.discriminator_weight * discrimination
        lld = self.ba_bound.log_likelihood(y_pred)
        loss = loss - self.mi_weight * lld
        if y is None or not training:
            return loss
        y_m = ops.reshape(ops.cast(y, "float32"), (-1,))
        entropy = self.ba_bound.entropy(y_m, y_pred)
        loss = loss - self.mi_weight * entropy
        # Labels as they were before this batch's update (MMSA order).
        unimodal = losses.unimodal_task_loss(
            self.slgm_state, x["index"], y_m, y_pred, MODALITIES
        )
        self.unimodal_tracker.update_state(unimodal)
        loss = loss + unimodal
        if self.cross_modal_tasks:
            keys = [f"cross_{task}" for task in self.cross_modal_tasks]
            cross = losses.unimodal_task_loss(
                self.clgm_state, x["index"], y_m, y_pred, keys
            )
            self.cross_modal_tracker.update_state(cross)
            loss = loss + cross
        return loss

    def discrimination_loss(self, y_pred):
        """`L_dc`: mean discriminator BCE over pairs, levels and items."""
        total = 0.0
        for first, second in self.pairs:
            logits = y_pred[f"discriminator_logits_{first}_{second}"]
            total = total + ops.mean(
                losses.modality_discrimination(
                    ops.reshape(logits[..., 0], (-1,)),
                    ops.reshape(logits[..., 1], (-1,)),
                )
            )
        return total / len(self.pairs)

    # --- training procedure (`BarberAgakovTwoStage`, `mmim_two_stage`) ----
    def stage_one(self):
        """The compiled stage-one model of MMIM's two-stage fit."""
        return self.training_procedure.stage_one_model()

    def moved_layers(self):
        return [self.ba_bound, self.self_mm_features]

    # --- optimisation ------------------------------------------------------
    def make_optimizers(
        self,
        learning_rate=7e-4,
        l2_decay=1e-3,
        text_learning_rate=4.5e-5,
        text_l2_decay=1e-3,
        audio_learning_rate=9e-4,
        audio_l2_decay=1e-3,
        vision_learning_rate=6e-3,
        vision_l2_decay=1e-3,
        gradient_accumulation_steps=4,
        mi_learning_rate=5e-3,
    ):
        """MCER's optimizers: `(main_optimizer, stage_one_optimizer)`.

        Main: Self-MM's per-group Adam with coupled L2
        (`self_mm_optimizer`: BERT decay / no-decay, audio sLSTM, vision
        sLSTM, everything else) with MCER Table III's rates
        (`learning_rate_bert / audio / visual / other`, MOSI defaults;
        GAP: decays and `update_epochs=4` from Self-MM's MMSA config).
        With `mmim_two_stage` the MMILB critics are frozen (`SGD(0)`) in
        the main optimizer and trained alone by the stage-one optimizer
        (`CoupledL2Adam(mi_learning_rate)`, MMIM's rate); otherwise they
        are in the "other" group and the stage-one optimizer is unused.
        """
        extra = {}
        if self.mmim_two_stage:
            extra[MMILB_PATTERN] = keras.optimizers.SGD(0.0)
        main = self_mm_optimizer.self_mm_optimizer(
            self.text_encoder,
            learning_rate=learning_rate,
            l2_decay=l2_decay,
            text_learning_rate=text_learning_rate,
            text_l2_decay=text_l2_decay,
            audio_learning_rate=audio_learning_rate,
            audio_l2_decay=audio_l2_decay,
            vision_learning_rate=vision_learning_rate,
            vision_l2_decay=vision_l2_decay,
            gradient_accumulation_steps=gradient_accumulation_steps,
            extra_optimizers=extra,
            name="mcer_optimizer",
        )
        stage_one = barber_agakov_two_stage.stage_one_optimizer(
            mi_learning_rate, l2_decay
        )
        return main, stage_one

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        metrics="auto",
        stage_one_optimizer="auto",
        **kwargs,
    ):
        """As `MSAModel.compile`; `"auto"` optimizers from `make_optimizers`.

        Args:
            stage_one_optimizer: optimizer of MMIM's stage 1 (used with
                `mmim_two_stage=True`), or `"auto"`.
        """
        optimizer = self.training_procedure.set_optimizers(
            optimizer, stage_one_optimizer, self.make_optimizers
        )
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )


class _SeedSequence:
    """Distinct derived seeds for the bottlenecks (`None` stays `None`)."""

    def __init__(self, seed):
        self.seed = seed
        self.count = 0

    def next(self):
        if self.seed is None:
            return None
        self.count += 1
        return int(self.seed) * 100 + self.count


# The named `keras.Input`s of MCER (any sequence lengths).
mcer_inputs = self_mm_features.self_mm_inputs

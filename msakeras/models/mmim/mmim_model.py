"""`MMIMModel`: MultiModal InfoMax (Han et al., EMNLP 2021)."""

import keras
from keras import ops

from msakeras import losses
from msakeras.backend import distribute
from msakeras.layers.encoders import masked_lstm_encoder
from msakeras.layers.estimators import barber_agakov_bound
from msakeras.layers.estimators import cpc_predictor
from msakeras.layers.fusion import mlp_fusion
from msakeras.models import msa_model
from msakeras.models.common import argument_checks
from msakeras.models.common import barber_agakov_two_stage
from msakeras.models.common import modality_encoding
from msakeras.models.mmim import mmim_presets
from msakeras.optimizers import coupled_l2_adam
from msakeras.optimizers import global_clip_multi_optimizer
from msakeras.optimizers import variable_patterns

# Regex of the critics' variable paths. The text encoder's group is keyed
# by its exact paths (`variables_pattern`): keras-hub names BERT's weights
# outside the encoder's scope.
MMILB_PATTERN = barber_agakov_bound.MMILB_PATTERN


@keras.saving.register_keras_serializable(package="msakeras")
class MMIMModel(msa_model.MSAModel):
    """MultiModal InfoMax: hierarchical MI maximisation for MSA.

    Architecture (`docs/models/mmim.md`, paper §3):

    - text: BERT, last-layer `[CLS]` state `h_t` (no projection);
      audio, vision: unidirectional sLSTM over right-padded frames, state at
      the last valid frame, then a linear layer (`h_a`, `h_v`).
    - fusion: `Z = tanh(W2 tanh(W1 Dropout([h_t; h_a; h_v])))` (width 128)
      and `ŷ = W3 Z` (paper eq. 7).
    - input-level MI: the composed `BarberAgakovBound` layer `ba_bound`:
      two `MMILB` critics q(h_v | h_t) and q(h_a | h_t),
      the BA lower bound `lld + H` (eqs. 3–6). `lld` is the official code's
      log-likelihood without the log-variance term (DECISION,
      `docs/building_blocks.md`; `full_gaussian_nll=True` gives the true
      Gaussian form). `H` is
      the entropy of a two-component (positive / negative label) Gaussian
      mixture over the projected modality vectors of the current batch and
      the previous batch of the same epoch (`BatchHistoryMemory`), with full
      covariances as the code (the paper writes a diagonal estimator).
    - fusion-level MI: CPC, `L_N(Z, h_m)` for m ∈ {text, audio, vision}
      (eqs. 10–11), log-sum-exp over predictions for a fixed representation
      (the code's orientation, DECISION docs/building_blocks.md).

    Objective of the main stage (eq. 12, official `solver.py`):
    `L = MAE(ŷ, y) + α·L_CPC − β·(lld_tv + lld_ta) − β·(H_tv + H_ta)`,
    where `H` joins the loss from the third batch of each epoch on (batch 0
    has an empty memory, batch 1 computes but does not add it) and a class
    with too few samples for a non-singular covariance is skipped and
    counted (`entropy_skipped_classes`; GAP: the code has no guard).

    **Two-stage training inside `model.fit`.** Each epoch first maximises
    `lld` updating only the MMILB critics (stage 1, "learning q"), then
    trains everything else on `L` (stage 2) while the critics stay fixed.
    `training_callbacks()` declares the procedure (`msakeras.training`:
    `EpochStartReset` empties the entropy memories and `TwoStageFit` runs
    stage 1 over the training data at every epoch start), and
    `MSAModel.fit` runs it, so plain
    `model.fit(train, validation_data=valid, epochs=E)` runs the published
    algorithm with the caller's callbacks seeing one epoch each.
    `two_stage=False` trains stage 2 alone.
    `compile()` with no optimizer builds the paper's optimizers: Adam with
    coupled L2 decay (PyTorch semantics) for BERT and the rest, critics
    frozen in stage 2 and alone in stage 1, one global-norm clip over all
    parameters in both stages (`GlobalClipMultiOptimizer`).

    Args:
        text_encoder: `BertTextEncoder` (or a layer with the same call).
        audio_dim: int. Audio feature width (MOSI 5, MOSEI 74, SIMS 33).
        vision_dim: int. Vision feature width (MOSI 20, MOSEI 35, SIMS 709).
        audio_hidden_dim: int. Audio LSTM width and output width (Table 3
            "hidden dim"; GAP: read as both). Defaults to `32` (MOSI).
        vision_hidden_dim: int. Vision LSTM/output width. Defaults to `32`.
        fusion_dim: int. Width of `Z`. Defaults to `128`.
        fusion_dropout: float. Dropout before the fusion MLP. Defaults to
            `0.1`.
        bidirectional: bool. Bidirectional sLSTMs (MMSA's variant).
            Defaults to `False` (paper and official code).
        cpc_weight: float. α, weight of `L_CPC`. Defaults to `0.3` (MOSI).
        ba_weight: float. β, weight of the BA bound. Defaults to `0.1`.
        cpc_layers: int. Layers of each CPC predictor. Defaults to `1`.
        full_gaussian_nll: bool. True Gaussian log-likelihood in the BA
            bound instead of the code form. Defaults to `False`.
        memory_capacity: int. Rows of the per-epoch entropy memory: at
            least the batch size (one batch of history, the paper's
            setting). Defaults to `128`.
        two_stage: bool. Run stage 1 at every epoch start in `fit`.
            Defaults to `True`.
        stage_one_fraction: float in (0, 1]. Share of the training batches
            stage 1 sees (official: 1.0 MOSI, 0.5 MOSEI). Defaults to `1.0`.
        stage_one_gradients: `"all"` or `"critics"`. `"all"` (official)
            backpropagates stage 1 through the encoders too, so the global
            norm that is clipped spans every parameter although only the
            critics step. `"critics"` stops gradients at the critics'
            inputs: the same updates whenever the clip is inactive, at
            about a third of the cost (the BERT backward pass is skipped);
            the clip then sees the critics' gradients only. Defaults to
            `"all"`.

    Inputs: `text_token_ids`, `text_padding_mask` `(batch, tokens)`;
    `audio` `(batch, frames, audio_dim)`, `audio_mask`; `vision`
    `(batch, frames, vision_dim)`, `vision_mask` (masks 1 = valid, right
    padded).

    Outputs: `sentiment` `(batch, 1)`, `fused_embedding`,
    `text_embedding`, `audio_embedding`, `vision_embedding`,
    `cpc_text`, `cpc_audio`, `cpc_vision` (CPC predictions),
    `lld_text_vision`, `lld_text_audio` `(batch,)`,
    `entropy_projection_vision`, `entropy_projection_audio`.

    Example:

    ```python
    backbone = msakeras.layers.load_bert_backbone()  # bundled MiniLM
    model = msakeras.models.MMIMModel(
        msakeras.layers.BertTextEncoder(backbone), audio_dim=5,
        vision_dim=20)
    model.compile()  # the paper's optimizers (MOSI settings)
    model.fit(train, validation_data=valid, epochs=10)
    ```

    Reference:
        Han, Chen, Poria, "Improving Multimodal Fusion with Hierarchical
        Mutual Information Maximization for Multimodal Sentiment Analysis",
        EMNLP 2021, https://arxiv.org/abs/2109.00412; code:
        https://github.com/declare-lab/Multimodal-Infomax
    """

    supports_replica_split = True
    jit_compile_unsupported = barber_agakov_bound.JIT_COMPILE_UNSUPPORTED

    presets_module = mmim_presets

    def __init__(
        self,
        text_encoder,
        audio_dim,
        vision_dim,
        audio_hidden_dim=32,
        vision_hidden_dim=32,
        fusion_dim=128,
        fusion_dropout=0.1,
        bidirectional=False,
        cpc_weight=0.3,
        ba_weight=0.1,
        cpc_layers=1,
        full_gaussian_nll=False,
        memory_capacity=128,
        two_stage=True,
        stage_one_fraction=1.0,
        stage_one_gradients="all",
        **kwargs,
    ):
        argument_checks.check_choice(
            "stage_one_gradients", stage_one_gradients, ("all", "critics")
        )
        if not 0.0 < stage_one_fraction <= 1.0:
            raise ValueError(
                "`stage_one_fraction` must be in (0, 1]; received "
                f"{stage_one_fraction}."
            )
        argument_checks.check_non_negative(
            cpc_weight=cpc_weight, ba_weight=ba_weight
        )
        # === Layers ===
        initializer = "glorot_normal"  # Xavier-normal, official init
        self.text_encoder = text_encoder
        self.audio_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            audio_hidden_dim,
            audio_hidden_dim,
            bidirectional=bidirectional,
            kernel_initializer=initializer,
            name="audio_encoder",
        )
        self.vision_encoder = masked_lstm_encoder.MaskedLSTMEncoder(
            vision_hidden_dim,
            vision_hidden_dim,
            bidirectional=bidirectional,
            kernel_initializer=initializer,
            name="vision_encoder",
        )
        self.fusion = mlp_fusion.MLPFusion(
            fusion_dim,
            num_layers=2,
            activation="tanh",
            dropout=fusion_dropout,
            kernel_initializer=initializer,
            name="fusion",
        )
        self.sentiment_head = keras.layers.Dense(
            1, kernel_initializer=initializer, name="sentiment_head"
        )
        self.ba_bound = barber_agakov_bound.BarberAgakovBound(
            full_gaussian_nll=full_gaussian_nll,
            memory_capacity=memory_capacity,
            kernel_initializer=initializer,
            name="ba_bound",
        )
        self.cpc_predictors = {
            modality: cpc_predictor.CPCPredictor(
                width,
                num_layers=cpc_layers,
                kernel_initializer=initializer,
                name=f"cpc_{modality}",
            )
            # Each predictor maps Z to its encoder's *output* width: the
            # sLSTM ends in a Dense to `*_hidden_dim` whatever its direction
            # (official `RNNEncoder.linear_1: 2h -> out` when bidirectional).
            for modality, width in (
                ("text", text_encoder.hidden_dim),
                ("audio", audio_hidden_dim),
                ("vision", vision_hidden_dim),
            )
        }

        # === Functional model ===
        inputs = mmim_inputs(audio_dim, vision_dim)
        _, embeddings = modality_encoding.encode_modalities(self, inputs)
        fused = self.fusion(
            [embeddings["text"], embeddings["audio"], embeddings["vision"]]
        )
        outputs = {
            "sentiment": self.sentiment_head(fused),
            "fused_embedding": fused,
            **{
                f"{modality}_embedding": value
                for modality, value in embeddings.items()
            },
            **{
                f"cpc_{modality}": predictor(fused)
                for modality, predictor in self.cpc_predictors.items()
            },
        }
        outputs.update(
            self.ba_bound(
                embeddings["text"], embeddings["vision"], embeddings["audio"]
            )
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.audio_dim = audio_dim
        self.vision_dim = vision_dim
        self.audio_hidden_dim = audio_hidden_dim
        self.vision_hidden_dim = vision_hidden_dim
        self.fusion_dim = fusion_dim
        self.fusion_dropout = fusion_dropout
        self.bidirectional = bidirectional
        self.cpc_weight = cpc_weight
        self.ba_weight = ba_weight
        self.cpc_layers = cpc_layers
        self.full_gaussian_nll = full_gaussian_nll
        self.memory_capacity = memory_capacity
        self.two_stage = two_stage
        self.stage_one_fraction = stage_one_fraction
        self.stage_one_gradients = stage_one_gradients

        # === Objectives ===
        self.cpc_tracker = keras.metrics.Mean(name="cpc_loss")

        # === Training procedure ===
        self.training_procedure = barber_agakov_two_stage.BarberAgakovTwoStage(
            self,
            self.ba_bound,
            inputs,
            embeddings,
            lambda: self.make_optimizers()[1],
            enabled=two_stage,
            stage_one_fraction=stage_one_fraction,
            stop_gradients=stage_one_gradients == "critics",
        )

    # --- objectives --------------------------------------------------------
    def auxiliary_loss(self, x, y, y_pred, training):
        """`cpc_weight·L_CPC + ba_weight·L_BA` of eq. 14 (eqs. 9, 12)."""
        # Data parallel: CPC's in-batch negatives and the entropy need the
        # global batch (gathered from the replicas) in training; `lld` is a
        # per-sample mean. Every term is scaled for the engine's gradient
        # reduction.
        gather = distribute.gather_replicas if training else _identity
        cpc = sum(
            ops.mean(
                losses.info_nce(
                    gather(y_pred[f"{modality}_embedding"]),
                    gather(y_pred[f"cpc_{modality}"]),
                )
            )
            for modality in ("text", "audio", "vision")
        )
        self.cpc_tracker.update_state(cpc)
        lld = self.ba_bound.log_likelihood(y_pred)
        extra = self.cpc_weight * cpc - self.ba_weight * lld
        if training and y is not None:
            # Classes follow the multimodal label: positive `y > 0`,
            # negative `y < 0`; zero-labelled samples join neither
            # (official code). Under data parallelism every replica sees
            # the global batch (the memory then holds the same vectors on
            # every replica).
            entropy = self.ba_bound.entropy(
                y, y_pred, gather=distribute.gather_replicas
            )
            extra = extra - self.ba_weight * entropy
        return distribute.scale_loss_for_replicas(extra)

    # --- training procedure (`BarberAgakovTwoStage`) -----------------------
    def stage_one(self):
        """The compiled stage-one model (built on first use)."""
        return self.training_procedure.stage_one_model()

    def moved_layers(self):
        return [self.ba_bound]

    def make_optimizers(
        self,
        learning_rate=1e-3,
        text_learning_rate=5e-5,
        mi_learning_rate=5e-3,
        l2_decay=1e-4,
        global_clipnorm=5.0,
    ):
        """The official optimizers: `(main_optimizer, stage_one_optimizer)`.

        Main (stage 2): BERT at `text_learning_rate`, everything else but
        the critics at `learning_rate`, critics frozen (`SGD(0)`).
        Stage 1: critics at `mi_learning_rate`, everything else frozen.
        All groups use `CoupledL2Adam(l2_decay)` (PyTorch `Adam` with
        `weight_decay`), and each stage clips one global norm over all
        parameters, as `clip_grad_norm_(model.parameters(), clip)`.
        Defaults: paper Table 3, MOSI.
        """
        text_pattern = variable_patterns.variables_pattern(self.text_encoder)
        main = global_clip_multi_optimizer.GlobalClipMultiOptimizer(
            keras.optimizers.OptimizerMap(
                default_optimizer=coupled_l2_adam.CoupledL2Adam(
                    learning_rate, l2_decay=l2_decay
                ),
                optimizer_map={
                    text_pattern: coupled_l2_adam.CoupledL2Adam(
                        text_learning_rate, l2_decay=l2_decay
                    ),
                    MMILB_PATTERN: keras.optimizers.SGD(0.0),
                },
            ),
            global_clipnorm=global_clipnorm,
            name="main_optimizer",
        )
        stage_one = barber_agakov_two_stage.stage_one_optimizer(
            mi_learning_rate, l2_decay, global_clipnorm=global_clipnorm
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
            stage_one_optimizer: optimizer for stage 1 (only the critics'
                variables should move), or `"auto"`.
        """
        optimizer = self.training_procedure.set_optimizers(
            optimizer, stage_one_optimizer, self.make_optimizers
        )
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )


def mmim_inputs(audio_dim, vision_dim):
    """The named `keras.Input`s of MMIM (any sequence lengths)."""
    return msa_model.sequence_inputs(audio_dim, vision_dim)


def _identity(value):
    return value

"""`SelfMIModel`: Self-MI (Nguyen et al., PACLIC 37, 2023) and Self-MM."""

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.estimators import cpc_predictor
from msakeras.layers.state import unimodal_label_generator
from msakeras.models import msa_model
from msakeras.models.common import argument_checks
from msakeras.models.common import self_mm_features
from msakeras.models.self_mi import self_mi_layers
from msakeras.models.self_mi import self_mi_presets
from msakeras.optimizers import self_mm_optimizer

MODALITIES = self_mm_features.MODALITIES
LABEL_GENERATORS = ("ulgm", "ulg_mi")
# Variable-path regexes of Self-MM's parameter groups (docs/architecture.md).
AUDIO_ENCODER_PATTERN = self_mm_optimizer.AUDIO_ENCODER_PATTERN
VISION_ENCODER_PATTERN = self_mm_optimizer.VISION_ENCODER_PATTERN


@keras.saving.register_keras_serializable(package="msakeras")
class SelfMIModel(msa_model.MSAModel):
    """Self-MI: self-supervised multi-task MSA with auxiliary CPC (and Self-MM).

    Architecture (`docs/models/self_mi.md`; Self-MM `SELF_MM` model):

    - text `X^t`: BERT, last-layer `[CLS]` state (`text_encoder`); audio
      `X^a`, vision `X^v`: unidirectional sLSTM over the valid frames,
      final state, then a linear layer (eqs. 2–4).
    - fusion `Z^m = ReLU(W · Dropout([X^t; X^a; X^v]))` (eqs. 5–6) and
      unimodal `Z^s = ReLU(W_s · Dropout(X^s))` (eq. 8). The sLSTMs and
      these post layers are the composed `SelfMMFeatureEncoder` layer
      `self_mm_features`.
    - four regression heads (fusion, text, audio, vision). DECISION
      (docs/models/self_mi.md): Self-MM's head `ŷ = W_3 ReLU(W_2 Z)`
      (`head_layers=2`);
      `head_layers=1` gives the paper's affine `ŷ = W_2 Z + b` (eqs. 7/9).
      Only the fusion head (`sentiment`) is used at inference.
    - CPC between `Z^m` and each `Z^s` (eqs. 11–15): `G^s = Linear(d_m →
      d_s)` (`CPCPredictor`), MMIM's InfoNCE with the plain norm (the
      paper's `‖·‖²` is a typo) and log-sum-exp over predictions
      (`msakeras.losses.info_nce`, docs/building_blocks.md DECISION).
      `cpc_modalities`
      selects the terms (the paper's Table 6 ablations drop one each).
    - unimodal labels `y_s` per training sample, in the
      `UnimodalLabelGenerator` state keyed by the `index` input:
      `label_generator="ulgm"` is Self-MM's relative-distance ULGM
      (docs/building_blocks.md;
      this model with `cpc_weight=0` is Self-MM), `"ulg_mi"` is Self-MI's
      ULG_MI (docs/models/self_mi.md, our reading): `R^s(G^s(Z^m)/‖G^s(Z^m)‖)`
      with
      `R^s = Linear–ReLU–Linear` (`GeneratedLabelHead`), trained with
      `L_gen = Σ_s MAE(R^s(p̄^s), y_m)` (eq. 16) with the gradient stopped
      into `Z^m` (DECISION: `G^s` and `R^s` learn from it, the backbone
      does not); from a sample's second epoch its labels move towards
      `clamp(R^s(p̄^s), ±H)` with Self-MM's epoch momentum (DECISION).
    - Algorithm 1 (`if n ≠ 1`): `L_CPC` and `L_gen` enter the loss from
      epoch 2 only; in epoch 1 they are zero (tracked as 0) and the
      labels stay `y_m`. `n` is the label state's per-sample epoch (its
      visit count plus one); evaluation includes them once epoch 2 has
      trained (some sample visited twice).

    Objective (eq. 17 plus §6.5, GAP on the combination):
    `L = mean_i[|ŷ_m − y_m| + Σ_s tanh(|y_s − y_m|)·|ŷ_s − y_s|]
    + L_gen + λ_cpc · L_CPC`. The first term is the compiled loss on
    `sentiment` (MAE by default); the unimodal terms use the labels as
    they were before this batch's label update (MMSA order) and are
    computed in training only (MMSA validates on the fusion task alone);
    `L_gen` (ULG_MI only) and `L_CPC` are tracked as `generation_loss`
    and `cpc_loss`, the unimodal terms as `unimodal_loss`.

    **State updates inside `fit`.** `compute_loss(training=True)` calls
    `UnimodalLabelGenerator.update` with the batch's `index`, `y_m`, the
    detached features `Z^m, Z^s` and (ULG_MI) the generated labels: it
    returns the labels read before writing, then updates labels (epoch
    `n > 1`: a sample's own visit count, see the layer), features and
    centres. Evaluation and `predict` never touch the tables. The state is
    saved in `.keras` files and backups, so resumed runs continue it.

    `compile()` with no optimizer uses `make_optimizers()` (Self-MM's
    per-group Adam with coupled L2 and gradient accumulation, MOSI
    settings of `docs/models/self_mi.md`).

    Args:
        text_encoder: `BertTextEncoder` (or a layer with the same call).
        audio_dim: int. Audio feature width (MOSI 5, MOSEI 74, SIMS 33).
        vision_dim: int. Vision feature width (MOSI 20, MOSEI 35, SIMS 709).
        num_train_samples: int. Size of the training split (label tables).
        label_generator: str. `"ulg_mi"` (Self-MI) or `"ulgm"` (Self-MM).
            Defaults to `"ulg_mi"`.
        audio_hidden_dim: int. Audio LSTM width. Defaults to `16`.
        audio_output_dim: int or None. Width of `X^a`. Defaults to `None`
            (= `audio_hidden_dim`, §6.6 "embedding size").
        vision_hidden_dim: int. Vision LSTM width. Defaults to `16`.
        vision_output_dim: int or None. Width of `X^v`. Defaults to `None`.
        fusion_dim: int. `d_m`, width of `Z^m` (`post_fusion_dim`).
            Defaults to `128`.
        text_post_dim, audio_post_dim, vision_post_dim: int. Widths of
            `Z^s` (`post_{text,audio,video}_dim`). Default `32`, `16`, `32`.
        fusion_dropout, text_dropout, audio_dropout, vision_dropout: float.
            Dropout before the post layers (`post_*_dropout`). Defaults
            `0.1`, `0.0`, `0.1`, `0.1` (Self-MI Table 2, MOSI).
        head_layers: int. `2` (Self-MM heads) or `1` (the paper's affine
            heads). Defaults to `2`.
        cpc_weight: float. `λ_cpc` (GAP: not given; DECISION 0.1, MMIM's
            default). Defaults to `0.1`.
        cpc_modalities: sequence of str. Modalities whose CPC term enters
            `L_CPC` (ablations). Defaults to all three. ULG_MI still
            builds every `G^s` (its generator reads them).
        generation_weight: float. Weight of `L_gen` (eq. 16 enters with 1).
            Defaults to `1.0`.
        label_range: float. `H` (3 MOSI/MOSEI, 1 SIMS). Defaults to `3.0`.
        exclude_zero: bool. ULGM centres use labels `> 0` (MMSA) or
            `>= 0`. Defaults to `True`.
        generator_hidden_dim: int or None. Hidden width of `R^s`. Defaults
            to `None` (`d_s`).

    Inputs: `text_token_ids`, `text_padding_mask` `(batch, tokens)`;
    `audio` `(batch, frames, audio_dim)`, `audio_mask`; `vision`
    `(batch, frames, vision_dim)`, `vision_mask`; `index` `(batch,)`
    int32, the training-sample id (any value at inference).

    Outputs: `sentiment`, `text_sentiment`, `audio_sentiment`,
    `vision_sentiment` `(batch, 1)`; `fused_embedding` (`Z^m`),
    `<modality>_embedding` (`Z^s`); `cpc_<modality>` (`G^s(Z^m)`); with
    ULG_MI `generated_<modality>_label` `(batch, 1)`.

    Example:

    ```python
    model = msakeras.models.SelfMIModel(
        msakeras.layers.BertTextEncoder(msakeras.layers.load_bert_backbone()),
        audio_dim=5, vision_dim=20, num_train_samples=1284)
    model.compile()
    train = msakeras.data.FeatureSequence(
        "mosi.h5", "train", input_keys=[t.name for t in model.inputs])
    model.fit(train, validation_data=valid, epochs=30)
    ```

    Reference:
        Nguyen, Nguyen, Le, Ha, "Self-MI: Efficient Multimodal Fusion via
        Self-Supervised Multi-Task Learning with Auxiliary Mutual
        Information Maximization", PACLIC 37, 2023; Yu et al., Self-MM,
        AAAI 2021,
        https://arxiv.org/abs/2102.04830
    """

    replica_split_refusal = (
        "its CPC InfoNCE terms take their negatives from the batch, so per "
        "replica they would see only that replica's samples (not gathered "
        "over replicas), and its extra loss terms are not scaled for the "
        "engine's gradient reduction (its ULGM label tables are already "
        "written from the gathered batch)"
    )

    config_attribute_names = self_mm_features.CONFIG_ATTRIBUTES
    presets_module = self_mi_presets

    def __init__(
        self,
        text_encoder,
        audio_dim,
        vision_dim,
        num_train_samples,
        label_generator="ulg_mi",
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
        head_layers=2,
        cpc_weight=0.1,
        cpc_modalities=MODALITIES,
        generation_weight=1.0,
        label_range=3.0,
        exclude_zero=True,
        generator_hidden_dim=None,
        **kwargs,
    ):
        argument_checks.check_choice(
            "label_generator", label_generator, LABEL_GENERATORS
        )
        argument_checks.check_choice("head_layers", head_layers, (1, 2))
        cpc_modalities = tuple(cpc_modalities)
        argument_checks.check_subset(
            "cpc_modalities", cpc_modalities, MODALITIES
        )
        argument_checks.check_non_negative(
            cpc_weight=cpc_weight, generation_weight=generation_weight
        )

        # === Layers ===
        self.text_encoder = text_encoder
        self.self_mm_features = self_mm_features.feature_encoder(locals())
        widths = self_mm_features.feature_widths(self.self_mm_features)
        self.heads = {
            key: self._make_head(key, width, head_layers)
            for key, width in widths.items()
        }
        self.cpc_predictors = {
            modality: cpc_predictor.CPCPredictor(
                widths[modality], name=f"cpc_{modality}"
            )
            for modality in MODALITIES
            if modality in cpc_modalities or label_generator == "ulg_mi"
        }
        self.label_state = unimodal_label_generator.UnimodalLabelGenerator(
            num_train_samples,
            modalities=MODALITIES,
            fusion_key="fusion",
            label_range=label_range,
            exclude_zero=exclude_zero,
            name="label_state",
        )
        if label_generator == "ulg_mi":
            self.stop_gradient = self_mi_layers.StopGradient(
                name="stop_gradient"
            )
            self.label_heads = {
                modality: self_mi_layers.GeneratedLabelHead(
                    generator_hidden_dim, name=f"generator_{modality}"
                )
                for modality in MODALITIES
            }

        # === Functional model ===
        inputs = self_mi_inputs(audio_dim, vision_dim)
        _, _, features = self_mm_features.encode(
            self.text_encoder, self.self_mm_features, inputs
        )
        # The state layer passes the features through; being in the graph
        # keeps its tables tracked, saved and in stateless backends' state.
        features = self.label_state(features, inputs["index"])
        outputs = {
            "sentiment": self._apply_head("fusion", features["fusion"]),
            "fused_embedding": features["fusion"],
        }
        for modality in MODALITIES:
            outputs[f"{modality}_sentiment"] = self._apply_head(
                modality, features[modality]
            )
            outputs[f"{modality}_embedding"] = features[modality]
        for modality, predictor in self.cpc_predictors.items():
            outputs[f"cpc_{modality}"] = predictor(features["fusion"])
        if label_generator == "ulg_mi":
            detached = self.stop_gradient(features["fusion"])
            for modality in MODALITIES:
                prediction = self.cpc_predictors[modality](detached)
                outputs[f"generated_{modality}_label"] = self.label_heads[
                    modality
                ](prediction)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.audio_dim = audio_dim
        self.vision_dim = vision_dim
        self.num_train_samples = num_train_samples
        self.label_generator = label_generator
        self.head_layers = head_layers
        self.cpc_weight = cpc_weight
        self.cpc_modalities = cpc_modalities
        self.generation_weight = generation_weight
        self.label_range = label_range
        self.exclude_zero = exclude_zero
        self.generator_hidden_dim = generator_hidden_dim

        # === Objectives ===
        self.unimodal_tracker = keras.metrics.Mean(name="unimodal_loss")
        self.generation_tracker = keras.metrics.Mean(name="generation_loss")
        self.cpc_tracker = keras.metrics.Mean(name="cpc_loss")

    @staticmethod
    def _make_head(key, width, head_layers):
        # Self-MM's `post_*_layer_2` / `_3`.
        layers = []
        if head_layers == 2:
            layers.append(
                keras.layers.Dense(
                    width, activation="relu", name=f"{key}_head_hidden"
                )
            )
        layers.append(keras.layers.Dense(1, name=f"{key}_head_output"))
        return layers

    def _apply_head(self, key, features):
        for layer in self.heads[key]:
            features = layer(features)
        return features

    def moved_layers(self):
        return [self.self_mm_features]

    # --- objectives --------------------------------------------------------
    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        loss = super().compute_loss(
            x=x,
            y=y,
            y_pred=y_pred,
            sample_weight=sample_weight,
            training=training,
        )
        # Algorithm 1: CPC and ULG_MI's label generation run only from
        # epoch 2 (`if n != 1`).
        gate = self._from_second_epoch(x, training)
        if self.cpc_modalities:
            cpc = sum(
                ops.mean(
                    gate
                    * losses.info_nce(
                        y_pred[f"{modality}_embedding"],
                        y_pred[f"cpc_{modality}"],
                    )
                )
                for modality in self.cpc_modalities
            )
            self.cpc_tracker.update_state(cpc)
            loss = loss + self.cpc_weight * cpc
        if y is None:
            return loss
        y_m = ops.reshape(ops.cast(y, "float32"), (-1,))
        generated = None
        if self.label_generator == "ulg_mi":
            # float32: under mixed precision the head's output is 16-bit.
            generated = {
                modality: ops.reshape(
                    ops.cast(y_pred[f"generated_{modality}_label"], "float32"),
                    (-1,),
                )
                for modality in MODALITIES
            }
            generation = sum(
                ops.mean(gate * ops.abs(generated[modality] - y_m))
                for modality in MODALITIES
            )
            self.generation_tracker.update_state(generation)
            loss = loss + self.generation_weight * generation
        if training:
            unimodal = losses.unimodal_task_loss(
                self.label_state,
                x["index"],
                y_m,
                y_pred,
                MODALITIES,
                generated_labels=generated,
            )
            self.unimodal_tracker.update_state(unimodal)
            loss = loss + unimodal
        return loss

    def _from_second_epoch(self, x, training):
        """1.0 where Algorithm 1's epoch `n` is past 1, else 0.0.

        Training: per sample, `n` is its visit count plus one (the label
        state's epoch counter, as the label momentum). Evaluation: 1.0
        once some sample has been visited twice (epoch 2 has run), so
        `val_loss` holds the CPC/generation terms from epoch 2 on.
        """
        state = self.label_state
        if training and x is not None and "index" in x:
            return ops.cast(state.visit_epochs(x["index"]) > 1.0, "float32")
        return ops.cast(ops.max(state.visits) >= 2, "float32")

    # --- optimisation ------------------------------------------------------
    def make_optimizers(
        self,
        learning_rate=1e-3,
        l2_decay=1e-3,
        text_learning_rate=5e-5,
        text_l2_decay=1e-3,
        audio_learning_rate=1e-3,
        audio_l2_decay=1e-3,
        vision_learning_rate=1e-4,
        vision_l2_decay=1e-3,
        gradient_accumulation_steps=4,
        sum_accumulated_gradients=True,
    ):
        """Self-MM's optimizer: per-group Adam with coupled L2.

        Groups (MMSA `SELF_MM` trainer): BERT weights with decay, BERT
        biases and LayerNorm parameters without decay (both at
        `text_learning_rate`), the audio sLSTM (+ its linear), the vision
        sLSTM, and everything else (post layers, heads, CPC predictors,
        ULG_MI generators). Each is a `CoupledL2Adam` (PyTorch
        `Adam(weight_decay=)`); no clipping (Self-MM has none).

        Gradient accumulation: Self-MM steps every `update_epochs=4`
        batches on the *sum* of their gradients; Keras's
        `gradient_accumulation_steps` steps on their *average*. Adam is
        invariant to that scale except for the coupled L2 term, so with
        `sum_accumulated_gradients=True` every `l2_decay` is divided by
        the number of steps, which reproduces the summed update (up to
        Adam's epsilon). DIFFERENCE: a trailing partial group at the end
        of an epoch carries over to the next epoch (Self-MM drops it).

        The BERT groups are keyed by the exact variable paths of the text
        encoder (keras-hub backbones create their variables outside the
        model's name scope, so `.*/text_encoder/.*` would not match them).
        Defaults: `docs/models/self_mi.md` (MOSI) with MMSA's `self_mm` decays.

        Returns:
            a `GlobalClipMultiOptimizer` (no joint clip).
        """
        return self_mm_optimizer.self_mm_optimizer(
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
            sum_accumulated_gradients=sum_accumulated_gradients,
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """As `MSAModel.compile`; `"auto"` optimizer from `make_optimizers`."""
        if optimizer == "auto":
            optimizer = self.make_optimizers()
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )


# The named `keras.Input`s of Self-MI (any sequence lengths).
self_mi_inputs = self_mm_features.self_mm_inputs

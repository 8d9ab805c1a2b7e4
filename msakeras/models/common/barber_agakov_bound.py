"""`BarberAgakovBound`: MMIM's input-level MI objective (MMIM, MCER's `L_MI`).

The critics, the entropy over the batch-history memories, the stage-one
model and optimizer of MMIM's two-stage fit: the whole BA bound in one file.
"""

import keras
from keras import ops

from msakeras import losses
from msakeras import training
from msakeras.layers.common import stop_gradient
from msakeras.layers.estimators import mmilb
from msakeras.layers.state import batch_history_memory
from msakeras.models import msa_model
from msakeras.models.common import modality_encoding
from msakeras.optimizers import coupled_l2_adam
from msakeras.optimizers import global_clip_multi_optimizer

# Regex of the critics' variable paths (`OptimizerMap` full-matches it
# against `variable.path`, which may or may not start with the model name).
MMILB_PATTERN = "(.*/)?mmilb_.*"
# The modalities whose features the text features predict, in the order
# of the critics, memories and `L_MI`'s terms.
MI_MODALITIES = ("vision", "audio")


class BarberAgakovBound:
    """Mixin of MMIM's input-level MI stage (MMIM; MCER's `L_MI`).

    MMIM (Han et al., EMNLP 2021, §3.2, eqs. 3–6) lower-bounds the MI
    between the text features and each of the vision / audio features
    with the Barber–Agakov bound `I ≥ lld + H`: `lld` is the
    log-likelihood of an `MMILB` critic `q(h_m | h_t)` and `H` the
    entropy of a two-class Gaussian mixture over the projected `h_m` of
    this batch and the previous one (`BatchHistoryMemory`, reset every
    epoch). Two-stage training (§3.4) maximises `lld` over the critics
    alone at every epoch start (stage 1, the stage-1 view built by
    `stage_one_model`) and then trains the rest with the critics fixed.

    The mixin sets `mmilb_text_vision`, `mmilb_text_audio`,
    `memory_vision`, `memory_audio` (layer names `mmilb_text_<m>`,
    `entropy_memory_<m>`) and adds the outputs `lld_text_<m>` and
    `entropy_projection_<m>`. It expects `text_encoder`, `audio_encoder`,
    `vision_encoder`, `audio_dim`, `vision_dim`, `lld_tracker`,
    `entropy_tracker` and `skipped_tracker` on the model, and
    `runs_stage_one()` / `stage_one_fraction` for `fit`. Mix it in before
    `MSAModel`.
    """

    # Stop gradients at the critics' inputs in the stage-1 view (MMIM's
    # `stage_one_gradients="critics"`).
    stage_one_gradients = "all"
    stage_one_fraction = 1.0

    # DECISION: the BA entropy (eq. 6) takes `logdet Σ` with `ops.slogdet`,
    # which TensorFlow's XLA cannot compile (no `LogMatrixDeterminant`
    # kernel); a Cholesky log-determinant would fail on the nearly singular
    # covariances of small classes. TensorFlow keeps a graph (`tf.function`)
    # step without XLA; JAX and torch compile it.
    jit_compile_unsupported = {
        "tensorflow": "XLA has no LogMatrixDeterminant kernel for the BA "
        "entropy's ops.slogdet"
    }

    def _build_mi_critics(
        self,
        full_gaussian_nll,
        memory_capacity,
        kernel_initializer="glorot_normal",
    ):
        """Sets the two `MMILB` critics and the two entropy memories."""
        self.mmilb_text_vision = mmilb.MMILB(
            full_gaussian_nll=full_gaussian_nll,
            kernel_initializer=kernel_initializer,
            name="mmilb_text_vision",
        )
        self.mmilb_text_audio = mmilb.MMILB(
            full_gaussian_nll=full_gaussian_nll,
            kernel_initializer=kernel_initializer,
            name="mmilb_text_audio",
        )
        self.memory_vision = batch_history_memory.BatchHistoryMemory(
            memory_capacity, num_classes=2, name="entropy_memory_vision"
        )
        self.memory_audio = batch_history_memory.BatchHistoryMemory(
            memory_capacity, num_classes=2, name="entropy_memory_audio"
        )

    def _critics(self):
        return {
            "vision": (self.mmilb_text_vision, self.memory_vision),
            "audio": (self.mmilb_text_audio, self.memory_audio),
        }

    def _mi_outputs(self, encoded):
        """`{lld_text_<m>, entropy_projection_<m>}` from `encoded` features."""
        outputs = {}
        for modality, (critic, memory) in self._critics().items():
            bound = critic(encoded["text"], encoded[modality])
            outputs[f"lld_text_{modality}"] = bound["log_likelihood"]
            # The memory passes the projection through; being in the graph
            # keeps its variables tracked, saved and in JAX's state.
            outputs[f"entropy_projection_{modality}"] = memory(
                bound["entropy_projection"]
            )
        return outputs

    # --- objectives --------------------------------------------------------
    def _mi_log_likelihood(self, y_pred):
        """`lld_tv + lld_ta` (batch means, float32); tracked as `lld`."""
        # float32 under mixed precision (the outputs may be 16-bit).
        lld = ops.mean(
            ops.cast(y_pred["lld_text_vision"], "float32")
        ) + ops.mean(ops.cast(y_pred["lld_text_audio"], "float32"))
        self.lld_tracker.update_state(lld)
        return lld

    def _mi_entropy(self, y, y_pred, gather=None):
        """`H_tv + H_ta` as added to the loss; writes this batch to memory.

        `ba_entropy_and_update_memory` on the entropy
        projections; `gather` (e.g. `distribute.gather_replicas`) is
        applied to the labels and projections first (data parallel).
        """
        projections = {
            modality: y_pred[f"entropy_projection_{modality}"]
            for modality in MI_MODALITIES
        }
        if gather is not None:
            y = gather(y)
            # The reshape restores the static width a TF cross-replica
            # gather loses.
            projections = {
                modality: ops.reshape(
                    gather(projection), (-1, projection.shape[-1])
                )
                for modality, projection in projections.items()
            }
        return ba_entropy_and_update_memory(
            y,
            projections,
            {
                modality: memory
                for modality, (_, memory) in self._critics().items()
            },
            self.entropy_tracker,
            self.skipped_tracker,
        )

    def reset_entropy_memory(self):
        """Empties the per-epoch history memories (each epoch start)."""
        self.memory_vision.reset()
        self.memory_audio.reset()

    # --- two-stage training ------------------------------------------------
    def runs_stage_one(self):
        """Whether `fit` runs stage 1 at every epoch start."""
        raise NotImplementedError

    def _model_inputs(self):
        """Fresh named `keras.Input`s of the model (for the stage-1 view)."""
        raise NotImplementedError

    def _stage_one_extra_terms(self, inputs):
        """Per-sample zero terms joining inputs the bounds do not read."""
        return []

    def stage_one_model(self):
        """A model over the encoders and the critics whose output is the
        stage-1 objective: the per-sample `lld_tv + lld_ta` (maximised)."""
        inputs = self._model_inputs()
        _, embeddings = modality_encoding.encode_modalities(self, inputs)
        if self.stage_one_gradients == "critics":
            embeddings = {
                modality: stop_gradient.StopGradient(
                    name=f"stop_gradient_{modality}"
                )(value)
                for modality, value in embeddings.items()
            }
        bounds = [
            critic(embeddings["text"], embeddings[modality])["log_likelihood"]
            for modality, (critic, _) in self._critics().items()
        ]
        bounds.extend(self._stage_one_extra_terms(inputs))
        # An `MSAModel` so that its training forward goes through DDP on
        # torch like the main model's (`MSAModel.__call__`).
        return msa_model.MSAModel(
            inputs,
            keras.layers.Add(name="lld_sum")(bounds),
            name=f"{self.name}_stage_one",
        )

    def _stage_one_runner(self):
        # A plain holder (`msakeras.training.StageOne`), not tracked: the
        # stage-one model and optimizer are not this model's saved state.
        # Created on first use (`compile` or `fit`), after `__init__`.
        if "_stage_one_holder" not in vars(self):
            self._stage_one_holder = training.StageOne(
                self.stage_one_model,
                lambda: self.make_optimizers()[1],
            )
        return self._stage_one_holder

    def _set_stage_one_optimizer(self, optimizer, stage_one_optimizer):
        """Resolves `"auto"` optimizers (`make_optimizers`); returns the
        main one and holds the stage-one one (a fresh stage-one model)."""
        if optimizer == "auto" or stage_one_optimizer == "auto":
            main, stage_one = self.make_optimizers()
            optimizer = main if optimizer == "auto" else optimizer
            if stage_one_optimizer == "auto":
                stage_one_optimizer = stage_one
        self._stage_one_runner().set_optimizer(stage_one_optimizer)
        return optimizer

    def stage_one(self):
        """The compiled stage-one model (built on first use).

        Its `jit_compile` follows this model's (`compile(jit_compile=...)`
        or a later `model.jit_compile = ...`).
        """
        return self._stage_one_runner().model(
            jit_compile=self.jit_compile if self.compiled else None,
            jit_compile_unsupported=self.jit_compile_unsupported,
        )

    def auxiliary_optimizers(self):
        """The stage-one optimizer when `fit` runs stage one.

        It lives outside Keras's tracking (it is not in `save_weights`);
        `msakeras.callbacks.ResumableBackup` saves and restores its
        variables. Built here if stage one has not run yet, as `fit`
        would build it.
        """
        if not self.runs_stage_one():
            return []
        return [
            self._stage_one_runner().built_optimizer(
                jit_compile=self.jit_compile if self.compiled else None,
                jit_compile_unsupported=self.jit_compile_unsupported,
            )
        ]

    def training_callbacks(self, x, y=None, batch_size=None, shuffle=True):
        """Empties the entropy memories at every epoch start, then (when
        `runs_stage_one()`) runs stage one (`msakeras.training`)."""
        callbacks = [
            training.EpochStartReset(
                [memory for _, memory in self._critics().values()]
            )
        ]
        if self.runs_stage_one():
            callbacks.append(
                training.TwoStageFit(
                    self.stage_one,
                    x,
                    y,
                    batch_size=batch_size,
                    stage_one_fraction=self.stage_one_fraction,
                    shuffle=shuffle,
                )
            )
        return callbacks


def stage_one_optimizer(mi_learning_rate, l2_decay, global_clipnorm=None):
    """MMIM's stage-1 optimizer: the critics alone, `CoupledL2Adam`.

    Every variable but the critics' (`MMILB_PATTERN`) is frozen
    (`SGD(0)`); with `global_clipnorm`, one global norm over all the
    gradients is clipped (`clip_grad_norm_(model.parameters(), clip)`).
    """
    return global_clip_multi_optimizer.GlobalClipMultiOptimizer(
        keras.optimizers.OptimizerMap(
            default_optimizer=keras.optimizers.SGD(0.0),
            optimizer_map={
                MMILB_PATTERN: coupled_l2_adam.CoupledL2Adam(
                    mi_learning_rate, l2_decay=l2_decay
                ),
            },
        ),
        global_clipnorm=global_clipnorm,
        name="stage_one_optimizer",
    )


def ba_entropy_and_update_memory(
    y, projections, memories, entropy_tracker=None, skipped_tracker=None
):
    """MMIM's `Σ_pairs H` as added to the loss; writes this batch to memory.

    For each modality, the entropy of a two-component Gaussian mixture
    over the projected vectors of the current batch and the memory's
    previous batch (`docs/building_blocks.md`): classes follow the multimodal
    label,
    positive `y > 0`, negative `y < 0` (zero-labelled samples join
    neither, official code); `H = ¼ (logdet Σ_pos + logdet Σ_neg)`.
    Batches 0 and 1 of an epoch do not add `H` (the official loop; the
    memory counts batches and is reset every epoch); a class with fewer
    than `width + 1` samples is skipped and counted. Shared by MMIM and
    MCER's `L_MI`.

    Args:
        y: float `(batch,)` or `(batch, 1)`. Multimodal labels.
        projections: dict modality -> float `(batch, width)`.
        memories: dict modality -> `BatchHistoryMemory` (same keys).
        entropy_tracker, skipped_tracker: optional `Mean` / `Sum` metrics.

    Returns:
        float scalar: the sum of the included entropies.
    """
    labels = ops.reshape(ops.cast(y, "float32"), (-1,))
    class_weights = ops.stack(
        [ops.cast(labels > 0, "float32"), ops.cast(labels < 0, "float32")],
        axis=-1,
    )
    total = 0.0
    for modality, memory in memories.items():
        current = ops.cast(projections[modality], "float32")
        stored_vectors, stored_weights = memory.read()
        vectors = ops.concatenate([stored_vectors, current], axis=0)
        weights = ops.concatenate([stored_weights, class_weights], axis=0)
        width = current.shape[-1]
        entropies, valid = losses.class_conditional_gaussian_entropy(
            vectors, weights, min_samples=width + 1
        )
        # 0.5 · Σ_c ½ logdet Σ_c = ¼ (logdet Σ_pos + logdet Σ_neg).
        entropy = 0.5 * ops.sum(entropies)
        counter = memory.batch_counter
        included = ops.cast(counter >= 2, "float32")
        computed = ops.cast(counter >= 1, "float32")
        if entropy_tracker is not None:
            entropy_tracker.update_state(entropy, sample_weight=computed)
        if skipped_tracker is not None:
            skipped_tracker.update_state(
                computed * ops.sum(1.0 - ops.cast(valid, "float32"))
            )
        total = total + included * entropy
        memory.write(current, class_weights)
        memory.increment()
    return total

"""`MMIMMutualInformation`: MMIM's BA-bound stage (MMIM, MCER's `L_MI`)."""

import keras
from keras import ops

from msakeras.layers.estimators import mmilb
from msakeras.layers.state import batch_history_memory
from msakeras.models import msa_model
from msakeras.models.common import modality_encoding
from msakeras.models.mmim import mmim_training
from msakeras.optimizers import coupled_l2_adam
from msakeras.optimizers import global_clip_multi_optimizer

# Regex of the critics' variable paths (`OptimizerMap` full-matches it
# against `variable.path`, which may or may not start with the model name).
MMILB_PATTERN = "(.*/)?mmilb_.*"
# The modalities whose features the text features predict, in the order
# of the critics, memories and `L_MI`'s terms.
MI_MODALITIES = ("vision", "audio")


class MMIMMutualInformation:
    """Mixin of MMIM's input-level MI stage (MMIM; MCER's `L_MI`).

    MMIM (Han et al., EMNLP 2021, §3.2, eqs. 3–6) lower-bounds the MI
    between the text features and each of the vision / audio features
    with the Barber–Agakov bound `I ≥ lld + H`: `lld` is the
    log-likelihood of an `MMILB` critic `q(h_m | h_t)` and `H` the
    entropy of a two-class Gaussian mixture over the projected `h_m` of
    this batch and the previous one (`BatchHistoryMemory`, reset every
    epoch). Two-stage training (§3.4) maximises `lld` over the critics
    alone at every epoch start (stage 1, the stage-1 view built by
    `mi_stage_model`) and then trains the rest with the critics fixed.

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

        `mmim_training.ba_entropy_and_update_memory` on the entropy
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
        return mmim_training.ba_entropy_and_update_memory(
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

    def _mi_stage_extra_terms(self, inputs):
        """Per-sample zero terms joining inputs the bounds do not read."""
        return []

    def mi_stage_model(self):
        """A model over the encoders and the critics whose output is the
        stage-1 objective: the per-sample `lld_tv + lld_ta` (maximised)."""
        inputs = self._model_inputs()
        _, embeddings = modality_encoding.encode_modalities(self, inputs)
        if self.stage_one_gradients == "critics":
            embeddings = {
                modality: mmim_training.StopGradient(
                    name=f"stop_gradient_{modality}"
                )(value)
                for modality, value in embeddings.items()
            }
        bounds = [
            critic(embeddings["text"], embeddings[modality])["log_likelihood"]
            for modality, (critic, _) in self._critics().items()
        ]
        bounds.extend(self._mi_stage_extra_terms(inputs))
        # An `MSAModel` so that its training forward goes through DDP on
        # torch like the main model's (`MSAModel.__call__`).
        return msa_model.MSAModel(
            inputs,
            keras.layers.Add(name="lld_sum")(bounds),
            name=f"{self.name}_mi_stage",
        )

    def _stage_one_state(self):
        state = self.__dict__.get("_mi_stage")
        if state is None:
            state = mmim_training.StageOneState()
            # `object.__setattr__`: a plain holder Keras does not track.
            object.__setattr__(self, "_mi_stage", state)
        return state

    def _set_stage_one_optimizer(self, optimizer, stage_one_optimizer):
        """Resolves `"auto"` optimizers (`make_optimizers`); returns the
        main one and holds the stage-1 one (a fresh stage-1 view)."""
        if optimizer == "auto" or stage_one_optimizer == "auto":
            main, stage_one = self.make_optimizers()
            optimizer = main if optimizer == "auto" else optimizer
            if stage_one_optimizer == "auto":
                stage_one_optimizer = stage_one
        # Held outside Keras's tracking: the stage-1 optimizer belongs to the
        # stage-1 view, not to this model's saved state.
        state = self._stage_one_state()
        state.optimizer = stage_one_optimizer
        state.model = None
        return optimizer

    def stage_one(self):
        """The compiled stage-1 model (built on first use).

        Its `jit_compile` follows this model's (`compile(jit_compile=...)`
        or a later `model.jit_compile = ...`).
        """
        state = self._stage_one_state()
        jit_compile = self.jit_compile if self.compiled else "auto"
        if state.model is None:
            if state.optimizer is None:
                _, state.optimizer = self.make_optimizers()
            state.model = self.mi_stage_model()
            state.model.jit_compile_unsupported = self.jit_compile_unsupported
            state.model.compile(
                optimizer=state.optimizer,
                loss=mmim_training.MaximizeOutput(),
                metrics=None,
                jit_compile=jit_compile,
            )
        elif self.compiled and state.model.jit_compile != jit_compile:
            state.model.jit_compile = jit_compile
        return state.model

    def auxiliary_optimizers(self):
        """Optimizers besides `self.optimizer` whose state a resume needs.

        The stage-1 optimizer lives outside Keras's tracking (it is not in
        `save_weights`); `msakeras.callbacks.ResumableBackup` saves and
        restores its variables. Built here if stage 1 has not run yet, as
        `fit` would build it.
        """
        if not self.runs_stage_one():
            return []
        stage_model = self.stage_one()
        optimizer = stage_model.optimizer
        if not optimizer.built:
            optimizer.build(stage_model.trainable_variables)
        return [optimizer]

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        callbacks=None,
        **kwargs,
    ):
        """`keras.Model.fit` that resets the entropy memories every epoch
        and first runs stage 1 when `runs_stage_one()`."""
        callbacks = list(callbacks or [])
        callbacks.insert(
            0,
            mmim_training.MMIMTwoStageCallback(
                self,
                x,
                y,
                batch_size=batch_size,
                stage_one_fraction=self.stage_one_fraction,
                run_stage_one=self.runs_stage_one(),
                shuffle=kwargs.get("shuffle", True),
            ),
        )
        return super().fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            callbacks=callbacks,
            **kwargs,
        )


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
        name="mi_stage_optimizer",
    )

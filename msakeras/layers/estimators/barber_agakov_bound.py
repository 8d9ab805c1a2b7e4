"""`BarberAgakovBound`: MMIM's input-level MI bound as one layer
(`docs/building_blocks.md`)."""

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.estimators import mmilb
from msakeras.layers.state import batch_history_memory

# Regex of the critics' variable paths (`OptimizerMap` full-matches it
# against `variable.path`, which may or may not start with the model name):
# the critics keep their layer names `mmilb_text_<m>` inside the bound.
MMILB_PATTERN = "(.*/)?mmilb_.*"
# The modalities whose features the text features predict, in the order
# of the critics, memories and terms.
MODALITIES = ("vision", "audio")
# DECISION: the entropy (eq. 6) takes `logdet Σ` with `ops.slogdet`, which
# TensorFlow's XLA cannot compile (no `LogMatrixDeterminant` kernel); a
# Cholesky log-determinant would fail on the nearly singular covariances
# of small classes. A model composing this layer declares it as its
# `MSAModel.jit_compile_unsupported`: TensorFlow keeps a graph
# (`tf.function`) step without XLA; JAX and torch compile it.
JIT_COMPILE_UNSUPPORTED = {
    "tensorflow": "XLA has no LogMatrixDeterminant kernel for the BA "
    "entropy's ops.slogdet"
}


@keras.saving.register_keras_serializable(package="msakeras")
class BarberAgakovBound(keras.layers.Layer):
    """MMIM's Barber–Agakov bound `I(h_t; h_m) ≥ lld + H` for m ∈ {v, a}.

    MMIM (Han et al., EMNLP 2021, §3.2, eqs. 3–6) lower-bounds the MI
    between the text features and each of the vision / audio features:
    `lld` is the log-likelihood of an `MMILB` critic `q(h_m | h_t)`
    (eqs. 3–4) and `H` the entropy of a two-class Gaussian mixture over the
    projected `h_m` of this batch and the previous one (eqs. 5–6), read
    from a `BatchHistoryMemory` that the training procedure empties at
    every epoch start (`memory_layers()`, official loop). The layer holds
    the two critics (`vision_critic`, `audio_critic`, layer names
    `mmilb_text_<m>`), the two memories (`vision_memory`, `audio_memory`,
    `entropy_memory_<m>`) and the trackers `lld`, `entropy` and
    `entropy_skipped_classes` (reported in the model's logs).

    `call` gives the per-sample terms that become model outputs; the
    model's `compute_loss` adds `log_likelihood(outputs)` (always) and
    `entropy(y, outputs)` (training, labels needed), which also writes the
    batch to the memories. Stage one of the two-stage fit (§3.4) maximises
    the `lld_text_*` outputs over the critics alone.

    The entropy follows the official code: classes follow the multimodal
    label (positive `y > 0`, negative `y < 0`; zero-labelled samples join
    neither), full covariances (the paper writes a diagonal estimator),
    `H = ¼ (logdet Σ_pos + logdet Σ_neg)`. Batches 0 and 1 of an epoch do
    not add `H` (batch 0 has an empty memory, batch 1 computes but does not
    add it); a class with fewer than `width + 1` samples is skipped and
    counted (GAP: the code has no guard).

    Args:
        full_gaussian_nll: bool. True Gaussian log-likelihood in the
            critics instead of the official code form (DECISION,
            `MMILB`). Defaults to `False`.
        memory_capacity: int. Rows of each memory: at least the batch
            size (one batch of history, the paper's setting). Defaults to
            `128`.
        kernel_initializer: str or initializer. The critics' kernels.
            Defaults to `"glorot_normal"` (Xavier-normal, official).

    Call arguments:
        text: float `(batch, d_t)`. The text features `h_t`.
        vision, audio: float `(batch, d_m)`. The features `h_v`, `h_a`.

    Returns:
        dict with `lld_text_vision`, `lld_text_audio` float `(batch,)`
        (per-sample log-likelihoods) and `entropy_projection_vision`,
        `entropy_projection_audio` `(batch, d_m // 4)`.

    Example:

    ```python
    bound = BarberAgakovBound(memory_capacity=32)
    outputs = bound(text_cls, vision_features, audio_features)
    loss = -bound.log_likelihood(outputs) - bound.entropy(y, outputs)
    ```

    Reference:
        Han, Chen, Poria, EMNLP 2021, §3.2 eqs. 3–6 and §3.4,
        https://arxiv.org/abs/2109.00412
    """

    def __init__(
        self,
        full_gaussian_nll=False,
        memory_capacity=128,
        kernel_initializer="glorot_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.full_gaussian_nll = full_gaussian_nll
        self.memory_capacity = memory_capacity
        # Passed to the critics as given: each resolves it itself (the
        # number of unseeded initializers drawn follows the old layout).
        self.kernel_initializer = kernel_initializer
        # Attribute order is the order of the weights (as the models had
        # them before this layer: critics, then memories).
        self.vision_critic = self._critic("vision")
        self.audio_critic = self._critic("audio")
        self.vision_memory = batch_history_memory.BatchHistoryMemory(
            memory_capacity, num_classes=2, name="entropy_memory_vision"
        )
        self.audio_memory = batch_history_memory.BatchHistoryMemory(
            memory_capacity, num_classes=2, name="entropy_memory_audio"
        )
        self.lld_tracker = keras.metrics.Mean(name="lld")
        self.entropy_tracker = keras.metrics.Mean(name="entropy")
        self.skipped_tracker = keras.metrics.Sum(name="entropy_skipped_classes")

    def _critic(self, modality):
        return mmilb.MMILB(
            full_gaussian_nll=self.full_gaussian_nll,
            kernel_initializer=self.kernel_initializer,
            name=f"mmilb_text_{modality}",
        )

    def critic_layers(self):
        """`{"vision": MMILB, "audio": MMILB}`."""
        return {"vision": self.vision_critic, "audio": self.audio_critic}

    def memory_layers(self):
        """`{"vision": BatchHistoryMemory, "audio": BatchHistoryMemory}`."""
        return {"vision": self.vision_memory, "audio": self.audio_memory}

    def moved_sublayers(self):
        """`{attribute: layer name}` of the sublayers a model held itself
        before this layer existed (`.keras` files of that layout load)."""
        return {
            "vision_critic": self.vision_critic.name,
            "audio_critic": self.audio_critic.name,
            "vision_memory": self.vision_memory.name,
            "audio_memory": self.audio_memory.name,
        }

    def call(self, text, vision, audio):
        features = {"vision": vision, "audio": audio}
        outputs = {}
        for modality in MODALITIES:
            bound = self.critic_layers()[modality](text, features[modality])
            outputs[f"lld_text_{modality}"] = bound["log_likelihood"]
            # The memory passes the projection through; being in the graph
            # keeps its variables built, saved and in JAX's state.
            outputs[f"entropy_projection_{modality}"] = self.memory_layers()[
                modality
            ](bound["entropy_projection"])
        return outputs

    def reset_memories(self):
        """Empties both memories (each epoch start)."""
        for memory in self.memory_layers().values():
            memory.reset()

    def log_likelihood(self, outputs):
        """`lld_tv + lld_ta` (batch means, float32); tracked as `lld`.

        Args:
            outputs: dict holding this layer's outputs (e.g. `y_pred`).
        """
        # float32 under mixed precision (the outputs may be 16-bit).
        lld = sum(
            ops.mean(ops.cast(outputs[f"lld_text_{modality}"], "float32"))
            for modality in MODALITIES
        )
        self.lld_tracker.update_state(lld)
        return lld

    def entropy(self, y, outputs, gather=None):
        """`H_tv + H_ta` as added to the loss; writes this batch to memory.

        Args:
            y: float `(batch,)` or `(batch, 1)`. Multimodal labels.
            outputs: dict holding this layer's outputs (e.g. `y_pred`).
            gather: optional callable applied to the labels and projections
                first (data parallel: `distribute.gather_replicas`).

        Returns:
            float32 scalar: the sum of the included entropies.
        """
        projections = {
            modality: outputs[f"entropy_projection_{modality}"]
            for modality in MODALITIES
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
        labels = ops.reshape(ops.cast(y, "float32"), (-1,))
        class_weights = ops.stack(
            [
                ops.cast(labels > 0, "float32"),
                ops.cast(labels < 0, "float32"),
            ],
            axis=-1,
        )
        total = 0.0
        for modality in MODALITIES:
            memory = self.memory_layers()[modality]
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
            self.entropy_tracker.update_state(entropy, sample_weight=computed)
            self.skipped_tracker.update_state(
                computed * ops.sum(1.0 - ops.cast(valid, "float32"))
            )
            total = total + included * entropy
            memory.write(current, class_weights)
            memory.increment()
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "full_gaussian_nll": self.full_gaussian_nll,
            "memory_capacity": self.memory_capacity,
            "kernel_initializer": (
                self.kernel_initializer
                if isinstance(self.kernel_initializer, str)
                else keras.initializers.serialize(self.kernel_initializer)
            ),
        }

"""MMIM's two-stage epoch inside `model.fit` (official `solver.py`)."""

import contextlib
import math
import warnings

import keras
from keras import ops

from msakeras import losses
from msakeras.layers.common import stop_gradient

# The stage-1 view's gradient stop (`stage_one_gradients="critics"`).
StopGradient = stop_gradient.StopGradient


@keras.saving.register_keras_serializable(package="msakeras")
class MaximizeOutput(keras.losses.Loss):
    """Loss `−y_pred`: maximises a model output (labels are ignored).

    Stage 1 of MMIM maximises the BA bound's log-likelihood
    `lld_tv + lld_ta` (paper §3.4 "Stage 1", code `stage=0`); the stage-1
    model outputs it per sample and is compiled with this loss.
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="maximize_output",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return -ops.reshape(y_pred, (ops.shape(y_pred)[0], -1))[:, 0]


class StageOneState:
    """The stage-1 view of an `MMIMModel` and its optimizer (untracked)."""

    def __init__(self):
        self.model = None
        self.optimizer = None


class MMIMTwoStageCallback(keras.callbacks.Callback):
    """Runs MMIM's stage 1 and resets the entropy memory at epoch start.

    `MMIMModel.fit` attaches this callback itself (first in the list), so
    user code calls plain `fit`. At the start of every epoch it

    1. empties the per-epoch history memories of the entropy estimate
       (`docs/building_blocks.md`: the memory is reset every epoch, batch 0
       computes no
       `H`, batch 1 computes but does not add it);
    2. when `run_stage_one`, fits the model's stage-1 view for one pass over
       the first `stage_one_fraction` of the training batches: the loss is
       `−(lld_tv + lld_ta)`, gradients flow through everything, one global
       norm is clipped over all of them, and only the MMILB critics step.

    The stage-1 loss of the epoch is added to the logs as `mi_stage_loss`
    (visible to `CSVLogger` and callbacks after this one).

    Args:
        mmim_model: the `MMIMModel` being fitted.
        x, y, batch_size: the training data as passed to `fit`.
        stage_one_fraction: float in (0, 1]. Share of batches in stage 1
            (official: all for MOSI, the first half for MOSEI).
        run_stage_one: bool. `False` only resets the memory (stage 2 alone).
        shuffle: bool. `fit`'s `shuffle` for stage 1 (the main `fit`'s).
    """

    def __init__(
        self,
        mmim_model,
        x,
        y=None,
        batch_size=None,
        stage_one_fraction=1.0,
        run_stage_one=True,
        shuffle=True,
    ):
        super().__init__()
        self.mmim_model = mmim_model
        self.x = x
        self.y = y
        self.batch_size = batch_size
        self.stage_one_fraction = stage_one_fraction
        self.run_stage_one = run_stage_one
        self.shuffle = shuffle
        self.last_stage_one_loss = None

    def _stage_one_steps(self):
        if self.stage_one_fraction >= 1.0:
            return None
        if isinstance(self.x, keras.utils.PyDataset):
            num_batches = len(self.x)
        else:
            first = keras.tree.flatten(self.x)[0]
            num_batches = math.ceil(len(first) / (self.batch_size or 32))
        return max(1, math.ceil(num_batches * self.stage_one_fraction))

    def on_train_begin(self, logs=None):
        if not self.run_stage_one:
            return
        # Build the stage-1 model (its loss, metrics and optimizer) here,
        # not in its first `fit`: a first `fit` peeks at one batch through
        # a fresh data loader, which draws from torch's global generator.
        # Built up front, every epoch's stage 1 draws the same way, so a
        # resumed run (`ResumableBackup`) matches an uninterrupted one.
        if isinstance(self.x, keras.utils.PyDataset):
            batch = self.x[0]
        else:
            size = self.batch_size or 32
            batch = keras.tree.map_structure(
                lambda array: array[:size], (self.x, self.y)
            )
        with self._strategy_scope():
            stage_model = self.mmim_model.stage_one()
            stage_model._symbolic_build(data_batch=tuple(batch))

    def _strategy_scope(self):
        # TensorFlow: the stage-1 view and its optimizer state belong to
        # the strategy the model was built under (MirroredStrategy).
        strategy = getattr(self.mmim_model, "distribute_strategy", None)
        if strategy is None:
            return contextlib.nullcontext()
        return strategy.scope()

    def on_epoch_begin(self, epoch, logs=None):
        self.mmim_model.reset_entropy_memory()
        if not self.run_stage_one:
            return
        with self._strategy_scope():
            stage_model = self.mmim_model.stage_one()
        # Stage 1 is a nested `fit` over the same dataset, which would end
        # a data epoch of its own (`PyDataset.on_epoch_end`): the data
        # epoch, its batch order and what resume saves would count passes.
        # Stage 1 reads the epoch's order; the main pass then reads it too.
        data_epoch = getattr(self.x, "epoch", None)
        with self._strategy_scope(), warnings.catch_warnings():
            # The entropy projection is not part of the stage-1 objective
            # (official: `entropy_prj` is never trained).
            warnings.filterwarnings("ignore", "Gradients do not exist")
            history = stage_model.fit(
                self.x,
                self.y,
                batch_size=self.batch_size,
                epochs=1,
                steps_per_epoch=self._stage_one_steps(),
                shuffle=self.shuffle,
                verbose=0,
            )
        if data_epoch is not None and hasattr(self.x, "set_epoch"):
            self.x.set_epoch(data_epoch)
        self.last_stage_one_loss = float(history.history["loss"][-1])

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.last_stage_one_loss is not None:
            logs["mi_stage_loss"] = self.last_stage_one_loss


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

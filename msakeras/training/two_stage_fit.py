"""`TwoStageFit`: MMIM's stage one at every epoch start of `fit`."""

import contextlib
import math
import warnings

import keras

from msakeras.backend import keras_internals


class TwoStageFit(keras.callbacks.Callback):
    """Runs stage one of a two-stage fit at the start of every epoch.

    MMIM (Han et al., EMNLP 2021, §3.4; official `solver.py`) trains in
    two stages per epoch: stage one maximises the BA bound's
    log-likelihood updating only the critics, stage two (the `fit` epoch
    itself) trains everything else on the main objective. A model returns
    this callback from `MSAModel.training_callbacks()`, so user code calls
    plain `fit` and the caller's callbacks see one epoch each.

    At every epoch start it fits the stage-one model for one pass over the
    first `stage_one_fraction` of the training batches (official: all for
    MOSI, the first half for MOSEI). The epoch's stage-one loss is added to
    the logs as `mi_stage_loss` (the documented history / CSV column).

    Args:
        stage_one_model: callable `() -> keras.Model`, the compiled
            stage-one model (e.g. `MMIMModel.stage_one`).
        x, y, batch_size: the training data as passed to `fit`.
        stage_one_fraction: float in (0, 1]. Share of batches in stage one.
        shuffle: bool. `fit`'s `shuffle` for stage one (the main `fit`'s).
    """

    def __init__(
        self,
        stage_one_model,
        x,
        y=None,
        batch_size=None,
        stage_one_fraction=1.0,
        shuffle=True,
    ):
        super().__init__()
        self.stage_one_model = stage_one_model
        self.x = x
        self.y = y
        self.batch_size = batch_size
        self.stage_one_fraction = stage_one_fraction
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

    def _strategy_scope(self):
        # TensorFlow: the stage-one model and its optimizer state belong to
        # the strategy the main model was built under (MirroredStrategy).
        strategy = getattr(self.model, "distribute_strategy", None)
        if strategy is None:
            return contextlib.nullcontext()
        return strategy.scope()

    def on_train_begin(self, logs=None):
        # Build the stage-one model (its loss, metrics and optimizer) here,
        # not in its first `fit`: a first `fit` peeks at one batch through
        # a fresh data loader, which draws from torch's global generator.
        # Built up front, every epoch's stage one draws the same way, so a
        # resumed run (`ResumableBackup`) matches an uninterrupted one.
        if isinstance(self.x, keras.utils.PyDataset):
            batch = self.x[0]
        else:
            size = self.batch_size or 32
            batch = keras.tree.map_structure(
                lambda array: array[:size], (self.x, self.y)
            )
        with self._strategy_scope():
            stage_model = self.stage_one_model()
            keras_internals.symbolic_build(stage_model, tuple(batch))

    def on_epoch_begin(self, epoch, logs=None):
        with self._strategy_scope():
            stage_model = self.stage_one_model()
        # Stage one is a nested `fit` over the same dataset, which would end
        # a data epoch of its own (`PyDataset.on_epoch_end`): the data
        # epoch, its batch order and what resume saves would count passes.
        # Stage one reads the epoch's order; the main pass then reads it too.
        data_epoch = getattr(self.x, "epoch", None)
        with self._strategy_scope(), warnings.catch_warnings():
            # Layers outside the stage-one objective get no gradient
            # (official: MMIM's `entropy_prj` is never trained).
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

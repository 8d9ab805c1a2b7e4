"""`AtomicModelCheckpoint`: `ModelCheckpoint` that never leaves half a file."""

import keras

from msakeras.callbacks import atomic_files


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` writing through temp file + rename.

    Keras writes `model.keras` in place, so a process killed (SIGKILL,
    out-of-memory) while saving leaves a truncated zip where the last good
    checkpoint was. This subclass lets Keras write to a temporary file in
    the same folder and moves it onto the target with `os.replace` once
    complete; the previous checkpoint survives any interruption. Arguments
    and selection (`monitor`, `save_best_only`, ...) are Keras's, plus:

    Args:
        start_epoch: int. First epoch (1-based) that may be saved; earlier
            epochs are neither saved nor compared. Defaults to 1 (Keras).
        replace_ties: bool. With `save_best_only`, an epoch equal to the
            best so far replaces it (`>=`/`<=`, the DashFusion official
            `check_and_save`); Keras keeps the first. Defaults to `False`.

    The file holds the model's config, compile config and weights only:
    the optimizer is detached while saving, so its state (moments, and with
    `MultiOptimizer` each sub-optimizer's copy) is not written; resuming
    uses `ResumableBackup`, which holds the optimizer state once. A model
    loaded compiled gets a fresh optimizer (Keras warns that it skips
    loading optimizer variables).

    Example:

    ```python
    checkpoint = msakeras.callbacks.AtomicModelCheckpoint(
        "run/model.keras", monitor="val_mae", mode="min",
        save_best_only=True)
    model.fit(train, validation_data=valid, callbacks=[checkpoint])
    ```
    """

    _redirect = None

    def __init__(self, *args, start_epoch=1, replace_ties=False, **kwargs):
        super().__init__(*args, **kwargs)
        if int(start_epoch) < 1:
            raise ValueError(f"`start_epoch` must be >= 1, got {start_epoch}.")
        self.start_epoch = int(start_epoch)
        self.replace_ties = bool(replace_ties)

    def _is_improvement(self, monitor_value, reference_value):
        if super()._is_improvement(monitor_value, reference_value):
            return True
        return self.replace_ties and monitor_value == reference_value

    def _should_save_model(self, epoch, batch, logs, filepath):
        if epoch + 1 < self.start_epoch:
            return False
        return super()._should_save_model(epoch, batch, logs, filepath)

    def _get_file_path(self, epoch, batch, logs):
        if self._redirect is not None:
            return self._redirect
        return super()._get_file_path(epoch, batch, logs)

    def _save_model(self, epoch, batch, logs):
        final_path = super()._get_file_path(epoch, batch, logs)
        with atomic_files.atomic_output_path(final_path) as temporary:
            self._redirect = temporary
            optimizer = self.model.optimizer
            self.model.optimizer = None  # weights and config only
            try:
                super()._save_model(epoch, batch, logs)
            finally:
                self.model.optimizer = optimizer
                self._redirect = None

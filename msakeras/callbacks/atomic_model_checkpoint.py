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
    and selection (`monitor`, `save_best_only`, ...) are Keras's.

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

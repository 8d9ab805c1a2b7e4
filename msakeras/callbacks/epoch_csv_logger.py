"""`EpochCSVLogger`: Keras's `CSVLogger` with epochs numbered from 1."""

import keras


class EpochCSVLogger(keras.callbacks.CSVLogger):
    """Writes `history.csv` with the `epoch` column counted from 1.

    Keras's `CSVLogger` writes the 0-based epoch index; `run.json`, the
    progress bar ("Epoch 1/40") and the curves count from 1. This logger
    writes `epoch + 1`, so row `n` is the n-th epoch trained everywhere.
    `ResumableBackup` truncates the file by the same numbering on resume
    (it reads the first row's number).
    """

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)

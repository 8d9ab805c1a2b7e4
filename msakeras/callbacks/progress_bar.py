"""`ProgressBar`: Keras's progress bar without diagnostic counters."""

import keras

HIDDEN_FROM_PROGRESS_BAR = ("entropy_skipped_classes",)
"""Logged values that stay in `history.csv`/`run.json` but are not shown:
diagnostics (MMIM's and MCER's count of classes skipped by the entropy
estimate), not training progress."""


class ProgressBar(keras.callbacks.ProgbarLogger):
    """`keras.callbacks.ProgbarLogger` that leaves out `hidden` log keys.

    Given to `fit` in `callbacks`, it replaces the default bar (Keras adds
    its own only when none is present); `verbose` still comes from `fit`.
    The logs other callbacks see are not changed.

    Args:
        hidden: names of logs (and their `val_` forms) not to display.
    """

    def __init__(self, hidden=HIDDEN_FROM_PROGRESS_BAR):
        super().__init__()
        names = tuple(hidden)
        self.hidden = frozenset(names + tuple(f"val_{n}" for n in names))

    def _shown(self, logs):
        if not logs:
            return logs
        return {k: v for k, v in logs.items() if k not in self.hidden}

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, self._shown(logs))

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(batch, self._shown(logs))

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, self._shown(logs))

    def on_test_end(self, logs=None):
        super().on_test_end(self._shown(logs))

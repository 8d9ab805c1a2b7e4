"""`NonFiniteLossGuard`: stop at the first NaN/inf loss term, by name."""

import math

import keras
import numpy as np


class NonFiniteLossError(RuntimeError):
    """Raised by `NonFiniteLossGuard`; `terms` maps each bad term to value."""

    def __init__(self, message, terms=None, epoch=None, batch=None):
        super().__init__(message)
        self.terms = dict(terms or {})
        self.epoch = epoch
        self.batch = batch


class NonFiniteLossGuard(keras.callbacks.TerminateOnNaN):
    """`TerminateOnNaN` that names the loss term and raises at once.

    Keras's `TerminateOnNaN` looks at the total `loss` only and, by
    default, stops gracefully, so `on_epoch_end` still runs and a
    `BackupAndRestore` backup is written from the broken weights. This
    guard looks at every logged value (the msakeras models log each loss
    term: `cpc_loss`, `lld`, `entropy`, `iamcl_loss`, ...), after every
    training and validation batch and at the end of the epoch, and raises
    `NonFiniteLossError` naming the non-finite terms, the epoch and the
    batch. Raising (Keras's `raise_error=True` behaviour) skips every
    later `on_epoch_end` and `on_train_end`, so when this guard comes
    **first** in the callback list no checkpoint, backup or history row is
    written from the broken state; the last good backup is kept.

    Running means hide nothing: a term that is non-finite in one batch
    makes its epoch mean non-finite from then on, so the first batch that
    produces one is the batch reported.

    Args:
        ignore: iterable of str. Logged names not checked (e.g. a metric
            that is legitimately infinite). Defaults to `()`.

    Example:

    ```python
    model.fit(train, callbacks=[msakeras.callbacks.NonFiniteLossGuard(),
                                keras.callbacks.ModelCheckpoint(...)])
    ```
    """

    def __init__(self, ignore=()):
        super().__init__(raise_error=True)
        self.ignore = tuple(ignore)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, "training", batch)

    def on_batch_end(self, batch, logs=None):
        # Keras routes `on_train_batch_end` here by default; checked above.
        pass

    def on_test_batch_end(self, batch, logs=None):
        self._check(logs, "validation", batch)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, "end of", None)

    def non_finite_terms(self, logs):
        """`{name: value}` of the logged values that are NaN or +-inf."""
        bad = {}
        for name, value in (logs or {}).items():
            if name in self.ignore:
                continue
            try:
                array = np.asarray(keras.ops.convert_to_numpy(value))
            except Exception:
                continue
            if array.dtype.kind not in "fc" or array.size == 0:
                continue
            if not np.all(np.isfinite(array)):
                bad[name] = float(array.reshape(-1)[0])
        return bad

    def _check(self, logs, phase, batch):
        bad = self.non_finite_terms(logs)
        if not bad:
            return
        # The total `loss` is non-finite whenever a term is: name the terms
        # first, the total last.
        names = sorted(
            bad, key=lambda name: (name in ("loss", "val_loss"), name)
        )
        where = f"epoch {self._epoch + 1}"
        if batch is not None:
            where += f", {phase} batch {batch}"
        else:
            where = f"{phase} {where}"
        listing = ", ".join(
            f"'{name}' = {_format(bad[name])}" for name in names
        )
        self.model.stop_training = True
        raise NonFiniteLossError(
            f"Non-finite loss at {where}: {listing}. Training stopped before "
            "any checkpoint or backup of this epoch was written; the last "
            "good one is kept. Lower the learning rate or check the inputs "
            f"of the term '{names[0]}'.",
            terms=bad,
            epoch=self._epoch,
            batch=batch,
        )


def _format(value):
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"

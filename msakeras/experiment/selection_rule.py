"""Model selection on validation only, sealed before the test split opens.

`SelectionRule` names the validation metric that picks the checkpoint and
refuses anything else (a test metric, a training metric); `seal()` fixes
the selected checkpoint after training and returns the only object that
opens the held-out test split (`HeldOutTestSplit.read`).
"""

import math
import os

import keras

from msakeras.callbacks import AtomicModelCheckpoint
from msakeras.experiment.run_receipt import file_sha256

VALIDATION_PREFIX = "val_"


class SelectionError(ValueError):
    """Model selection would use data other than the validation split."""


class SelectionRule:
    """Pick the checkpoint with the best value of a validation metric.

    Args:
        monitor: str. A Keras validation log key (`"val_mae"`); it must
            start with `val_`. A test or training metric raises
            `SelectionError`. Defaults to `"val_mae"`.
        mode: str. `"min"` or `"max"`. Defaults to `"min"`.
        start_epoch: int. First epoch (1-based) eligible for selection;
            earlier epochs are neither saved nor selected. Defaults to 1.
        ties: str. `"first"`: an equal later value keeps the earlier
            checkpoint (Keras); `"last"`: it replaces it (`>=`, as the
            DashFusion official `check_and_save`). Defaults to `"first"`.

    Example:

    ```python
    rule = msakeras.experiment.SelectionRule("val_mae", "min")
    history = model.fit(train, validation_data=rule.check_validation_data(
        valid), callbacks=[rule.checkpoint_callback("model.keras")])
    sealed = rule.seal("model.keras", history.history)
    test = msakeras.experiment.HeldOutTestSplit("mosi.h5").read(sealed)
    ```
    """

    def __init__(self, monitor="val_mae", mode="min", start_epoch=1,
                 ties="first"):  # fmt: skip
        monitor = str(monitor)
        if "test" in monitor.lower():
            raise SelectionError(
                f"Selection metric {monitor!r} reads the test split; select "
                "on a validation metric (e.g. 'val_mae'). The test split is "
                "read once, after selection is sealed."
            )
        if not monitor.startswith(VALIDATION_PREFIX):
            raise SelectionError(
                f"Selection metric {monitor!r} is not a validation metric; "
                f"it must start with {VALIDATION_PREFIX!r} (Keras's prefix "
                "for metrics on `validation_data`)."
            )
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` must be 'min' or 'max', got {mode!r}.")
        if ties not in ("first", "last"):
            raise ValueError(f"`ties` must be 'first' or 'last', got {ties!r}.")
        if int(start_epoch) < 1:
            raise ValueError(f"`start_epoch` must be >= 1, got {start_epoch}.")
        self.monitor = monitor
        self.mode = mode
        self.start_epoch = int(start_epoch)
        self.ties = ties

    def describe(self):
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "start_epoch": self.start_epoch,
            "ties": self.ties,
            "rule": f"{self.mode} {self.monitor} over epochs "
            f"{self.start_epoch}.. (validation "
            "split only); the test split is read once, after the selected "
            "checkpoint is sealed",
        }

    def check_validation_data(self, data):
        """Returns `data`, refusing the test split as validation data."""
        from msakeras.experiment.held_out_test_split import HeldOutTestSplit

        if isinstance(data, HeldOutTestSplit) or (
            getattr(data, "split", None) == "test"
        ):
            raise SelectionError(
                f"The validation data {data!r} is the test split: selecting "
                f"on it ({self.monitor}) would leak the test set into model "
                "selection. Pass the 'valid' split."
            )
        return data

    def checkpoint_callback(self, path):
        """Atomic `ModelCheckpoint` keeping the best checkpoint of this rule.

        `msakeras.callbacks.AtomicModelCheckpoint` writes a temporary file
        and renames it, so a kill never leaves a half-written checkpoint.
        """
        return AtomicModelCheckpoint(
            os.fspath(path),
            monitor=self.monitor,
            mode=self.mode,
            save_best_only=True,
            start_epoch=self.start_epoch,
            replace_ties=self.ties == "last",
        )

    def early_stopping(self, patience):
        """`EarlyStopping` on the same validation metric."""
        return keras.callbacks.EarlyStopping(
            monitor=self.monitor, mode=self.mode, patience=patience
        )

    def best_epoch(self, history):
        """`(epoch index, value)` of the best epoch in a Keras history."""
        values = list((history or {}).get(self.monitor, []))
        finite = [
            (index, float(value))
            for index, value in enumerate(values)
            if value is not None
            and math.isfinite(float(value))
            and index + 1 >= self.start_epoch
        ]
        if not finite:
            raise SelectionError(
                f"The history has no finite {self.monitor!r} values from "
                f"epoch {self.start_epoch} on (keys: "
                f"{sorted(history or {})}); nothing was selected on "
                "validation."
            )
        if self.ties == "last":
            finite.reverse()  # min/max return the first of equal values
        pick = min if self.mode == "min" else max
        return pick(finite, key=lambda item: item[1])

    def seal(self, checkpoint_path, history):
        """Fixes the selected checkpoint; returns the `SealedSelection`.

        Args:
            checkpoint_path: str. The file `checkpoint_callback` wrote.
            history: dict. `model.fit(...).history` holding `monitor`
                (for a resumed run, the logged epochs of `history.csv`).

        Returns:
            A `SealedSelection` recording the checkpoint's SHA-256, the
            best epoch and its value: the key to `HeldOutTestSplit.read`.
        """
        checkpoint_path = os.fspath(checkpoint_path)
        if not os.path.isfile(checkpoint_path):
            raise SelectionError(
                f"No selected checkpoint at '{checkpoint_path}': training "
                "saved none (was the validation metric ever logged?)."
            )
        epoch, value = self.best_epoch(history)
        return SealedSelection(
            _SEAL_TOKEN,
            rule=self,
            checkpoint_path=checkpoint_path,
            checkpoint_sha256=file_sha256(checkpoint_path),
            best_epoch=epoch,
            best_value=value,
        )


_SEAL_TOKEN = object()


class SealedSelection:
    """A fixed selection: made only by `SelectionRule.seal`.

    Attributes:
        rule: the `SelectionRule`.
        checkpoint_path: str. The selected checkpoint.
        checkpoint_sha256: str. Its hash when sealed; the test split
            refuses to open if the file changed since.
        best_epoch: int. 0-based epoch of the best validation value.
        best_value: float. That value.
    """

    def __init__(self, token, rule, checkpoint_path, checkpoint_sha256,
                 best_epoch, best_value):  # fmt: skip
        if token is not _SEAL_TOKEN:
            raise SelectionError(
                "A SealedSelection is made only by SelectionRule.seal(), "
                "after training selected a checkpoint on validation."
            )
        self.rule = rule
        self.checkpoint_path = checkpoint_path
        self.checkpoint_sha256 = checkpoint_sha256
        self.best_epoch = int(best_epoch)
        self.best_value = float(best_value)

    def describe(self):
        return {
            **self.rule.describe(),
            "best_epoch": self.best_epoch + 1,
            "best_value": self.best_value,
            "checkpoint": os.path.basename(self.checkpoint_path),
            "checkpoint_sha256": self.checkpoint_sha256,
        }

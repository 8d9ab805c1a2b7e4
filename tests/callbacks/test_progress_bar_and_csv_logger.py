"""The recipes' progress bar hides diagnostics; history.csv counts from 1."""

import contextlib
import io
import os

import keras
import numpy as np

import msakeras
from msakeras.testing import TestCase


class ProgressBarTest(TestCase):
    def test_hidden_counters_are_not_shown_but_kept_in_logs(self):
        bar = msakeras.callbacks.ProgressBar()
        bar.set_params({"verbose": 1, "epochs": 1, "steps": 2})
        logs = {"loss": 0.5, "entropy_skipped_classes": 3.0}
        end_logs = dict(logs, val_loss=0.4, val_entropy_skipped_classes=1.0)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            bar.on_train_begin()
            bar.on_epoch_begin(0)
            bar.on_train_batch_end(0, logs)
            bar.on_train_batch_end(1, logs)
            bar.on_epoch_end(0, end_logs)
        text = printed.getvalue()
        self.assertIn("loss", text)
        self.assertIn("val_loss", text)
        self.assertNotIn("entropy_skipped_classes", text)
        self.assertIn("entropy_skipped_classes", logs)  # not mutated
        self.assertIn("val_entropy_skipped_classes", end_logs)

    def test_fit_uses_it_instead_of_the_default_bar(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.ones((4, 2), "float32")
        printed = io.StringIO()
        bar = msakeras.callbacks.ProgressBar(hidden=("loss",))
        with contextlib.redirect_stdout(printed):
            history = model.fit(
                x, x[:, :1], epochs=1, verbose=2, callbacks=[bar]
            )
        self.assertIn("loss", history.history)  # History still has it
        self.assertNotIn("loss", printed.getvalue())


class EpochCSVLoggerTest(TestCase):
    def test_epochs_are_numbered_from_one(self):
        path = os.path.join(self.temp_dir, "history.csv")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.ones((4, 2), "float32")
        model.fit(
            x,
            x[:, :1],
            epochs=3,
            verbose=0,
            callbacks=[msakeras.callbacks.EpochCSVLogger(path)],
        )
        with open(path, encoding="utf-8") as handle:
            rows = handle.read().splitlines()
        self.assertEqual(
            [row.split(",")[0] for row in rows], ["epoch", "1", "2", "3"]
        )

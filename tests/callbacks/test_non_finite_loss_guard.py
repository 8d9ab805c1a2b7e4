import csv
import os

import keras
import numpy as np
from keras import ops

import msakeras
from msakeras.testing import TestCase


class LogTermModel(keras.Model):
    """Adds `mean(log(x[:, 0] - shift))` (logged as `log_term`) times 0."""

    def __init__(self, **kwargs):
        inputs = keras.Input((2,))
        super().__init__(inputs, keras.layers.Dense(1)(inputs), **kwargs)
        self.log_term_tracker = keras.metrics.Mean(name="log_term")
        self.shift = keras.Variable(0.0, trainable=False, name="shift")

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        term = ops.mean(ops.log(x[:, 0] - self.shift))
        self.log_term_tracker.update_state(term)
        return loss + 0.0 * term


def data():
    x = np.abs(np.random.RandomState(0).normal(size=(12, 2))) + 0.5
    return x.astype("float32"), np.ones((12, 1), "float32")


class BreakAt(keras.callbacks.Callback):
    """Turns `log_term` NaN from training batch `batch` of `epoch` on."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.model.shift.assign(10.0)


class NonFiniteLossGuardTest(TestCase):
    def test_stops_naming_the_term_and_writes_no_broken_checkpoint(self):
        model = LogTermModel()
        model.compile(optimizer="sgd", loss="mae")
        checkpoint_path = os.path.join(self.temp_dir, "model.keras")
        history_path = os.path.join(self.temp_dir, "history.csv")
        backup_dir = os.path.join(self.temp_dir, "backup")
        callbacks = [
            msakeras.callbacks.NonFiniteLossGuard(),
            msakeras.callbacks.AtomicModelCheckpoint(checkpoint_path),
            keras.callbacks.CSVLogger(history_path),
            msakeras.callbacks.ResumableBackup(
                backup_dir, delete_checkpoint=False
            ),
        ]
        callbacks.append(BreakAt(epoch=1, batch=1))
        x, y = data()
        with self.assertRaises(msakeras.callbacks.NonFiniteLossError) as caught:
            model.fit(
                x, y, batch_size=4, epochs=3, callbacks=callbacks, verbose=0
            )
        error = caught.exception
        message = str(error)
        self.assertIn("'log_term' = nan", message)
        self.assertIn("epoch 2, training batch 1", message)
        self.assertLess(message.index("log_term"), message.index("'loss'"))
        self.assertEqual(error.epoch, 1)
        self.assertIn("log_term", error.terms)

        # Epoch 1 was written, epoch 2 was not: checkpoint, history, backup.
        with open(history_path) as handle:
            self.assertLen(list(csv.DictReader(handle)), 1)
        saved = keras.saving.load_model(
            checkpoint_path, custom_objects={"LogTermModel": LogTermModel}
        )
        for variable in saved.weights:
            self.assertTrue(np.all(np.isfinite(ops.convert_to_numpy(variable))))
        self.assertEqual(sorted(os.listdir(backup_dir))[-1], "state.json")
        self.assertIn("epoch_1.weights.h5", os.listdir(backup_dir))

    def test_finite_training_is_untouched(self):
        model = LogTermModel()
        model.compile(optimizer="sgd", loss="mae")
        x, y = data()
        history = model.fit(
            x,
            y,
            epochs=2,
            batch_size=4,
            callbacks=[msakeras.callbacks.NonFiniteLossGuard()],
            verbose=0,
        )
        self.assertLen(history.history["log_term"], 2)

    def test_non_finite_validation_is_caught(self):
        model = LogTermModel()
        model.compile(optimizer="sgd", loss="mae")
        x, y = data()
        bad_x = x.copy()
        bad_x[2] = np.inf
        with self.assertRaisesRegex(
            msakeras.callbacks.NonFiniteLossError, "validation batch 0"
        ):
            model.fit(
                x,
                y,
                validation_data=(bad_x, y),
                epochs=1,
                batch_size=4,
                callbacks=[msakeras.callbacks.NonFiniteLossGuard()],
                verbose=0,
            )

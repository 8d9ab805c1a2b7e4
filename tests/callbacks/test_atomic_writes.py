import json
import os

import keras
import numpy as np

import msakeras
from msakeras.testing import TestCase


class FailSaveAt(keras.callbacks.Callback):
    """From epoch `epoch` on, the model's savers write half a file and die."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch != self.epoch:
            return

        def broken(filepath, *args, **kwargs):
            with open(filepath, "wb") as handle:
                handle.write(b"half a file")
            raise OSError("disk full (simulated)")

        self.model.save = broken
        self.model.save_weights = broken


def tiny_model():
    inputs = keras.Input((3,))
    model = keras.Model(
        inputs, keras.layers.Dense(1)(keras.layers.Dropout(0.2)(inputs))
    )
    model.compile(optimizer="adam", loss="mae")
    return model


def data():
    rng = np.random.RandomState(0)
    return rng.normal(size=(8, 3)).astype("float32"), np.ones((8, 1), "float32")


class AtomicWritesTest(TestCase):
    def test_checkpoint_survives_a_failed_save(self):
        path = os.path.join(self.temp_dir, "model.keras")
        model = tiny_model()
        x, y = data()
        checkpoint = msakeras.callbacks.AtomicModelCheckpoint(path)
        model.fit(x, y, epochs=1, callbacks=[checkpoint], verbose=0)
        with open(path, "rb") as handle:
            good = handle.read()
        with self.assertRaisesRegex(OSError, "simulated"):
            model.fit(
                x,
                y,
                epochs=2,
                callbacks=[FailSaveAt(0), checkpoint],
                verbose=0,
            )
        with open(path, "rb") as handle:
            self.assertEqual(handle.read(), good)
        self.assertEqual(os.listdir(self.temp_dir), ["model.keras"])
        keras.saving.load_model(path)  # still a valid archive

    def test_backup_survives_a_failed_save_and_restores(self):
        backup_dir = os.path.join(self.temp_dir, "backup")
        x, y = data()
        model = tiny_model()
        backup = msakeras.callbacks.ResumableBackup(
            backup_dir, delete_checkpoint=False
        )
        with self.assertRaisesRegex(OSError, "simulated"):
            model.fit(
                x,
                y,
                epochs=3,
                callbacks=[FailSaveAt(1), backup],
                verbose=0,
            )
        with open(os.path.join(backup_dir, "state.json")) as handle:
            state = json.load(handle)
        self.assertEqual(state["epoch"], 1)
        self.assertEqual(
            sorted(os.listdir(backup_dir)),
            ["epoch_1.npz", "epoch_1.weights.h5", "state.json"],
        )
        fresh = tiny_model()
        restore = msakeras.callbacks.ResumableBackup(
            backup_dir, delete_checkpoint=False
        )
        history = fresh.fit(x, y, epochs=3, callbacks=[restore], verbose=0)
        self.assertEqual(restore.restored_epoch, 1)
        self.assertLen(history.history["loss"], 2)  # epochs 2 and 3 only

    def test_backup_of_another_model_is_refused(self):
        backup_dir = os.path.join(self.temp_dir, "backup")
        x, y = data()
        model = tiny_model()
        model.fit(
            x,
            y,
            epochs=1,
            callbacks=[
                msakeras.callbacks.ResumableBackup(
                    backup_dir, delete_checkpoint=False
                )
            ],
            verbose=0,
        )
        inputs = keras.Input((3,))
        other = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        other.compile(optimizer="adam", loss="mae")
        with self.assertRaisesRegex(ValueError, "different model"):
            other.fit(
                x,
                y,
                epochs=2,
                callbacks=[msakeras.callbacks.ResumableBackup(backup_dir)],
                verbose=0,
            )

    def test_atomic_output_path_leaves_nothing_on_error(self):
        path = os.path.join(self.temp_dir, "out.csv")
        with open(path, "w") as handle:
            handle.write("old")
        with self.assertRaisesRegex(RuntimeError, "boom"):
            with msakeras.callbacks.atomic_output_path(path) as temporary:
                with open(temporary, "w") as handle:
                    handle.write("new, half")
                raise RuntimeError("boom")
        with open(path) as handle:
            self.assertEqual(handle.read(), "old")
        self.assertEqual(os.listdir(self.temp_dir), ["out.csv"])


class CheckpointContentTest(TestCase):
    def test_model_keras_holds_no_optimizer_state(self):
        import io
        import zipfile

        import h5py

        path = os.path.join(self.temp_dir, "model.keras")
        model = tiny_model()
        x, y = data()
        checkpoint = msakeras.callbacks.AtomicModelCheckpoint(path)
        model.fit(
            x, y, epochs=2, batch_size=4, callbacks=[checkpoint], verbose=0
        )
        with zipfile.ZipFile(path) as archive:
            weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")))
            names = []
            weights.visit(names.append)
        self.assertFalse([n for n in names if n.startswith("optimizer")])
        self.assertTrue([n for n in names if n.startswith("layers")])
        # The optimizer is back on the model and its state kept going.
        self.assertEqual(
            int(keras.ops.convert_to_numpy(model.optimizer.iterations)), 4
        )
        restored = keras.saving.load_model(path, compile=False)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored(x)),
            keras.ops.convert_to_numpy(model(x)),
            rtol=1e-6,
        )

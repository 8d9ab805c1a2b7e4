import json
import os

import keras
import numpy as np

import msakeras
from msakeras.testing import TestCase
from tests.models.mmim import test_mmim_model


class Interrupt(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Stands in for a kill: raises mid-epoch, so nothing else runs."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Interrupt()


def tiny_file(directory):
    return msakeras.data.make_synthetic_dataset(
        os.path.join(directory, "tiny.h5"),
        num_train=24,
        num_valid=8,
        num_test=8,
        text_length=8,
        audio_steps=6,
        vision_steps=5,
        audio_dim=5,
        vision_dim=4,
        vocabulary_size=100,
    )


class ResumableBackupTest(TestCase):
    def train(self, path, directory, epochs=3, interrupt=None, wrap=None):
        """Fits a tiny MMIM with dropout; returns model, history rows.

        `wrap`: optional callable that wraps the training sequence.
        """
        keras.utils.set_random_seed(5)
        model = test_mmim_model.tiny_model(fusion_dropout=0.3)
        model.compile()
        keys = [tensor.name for tensor in model.inputs]
        train = msakeras.data.FeatureSequence(
            path, "train", batch_size=8, input_keys=keys, seed=3
        )
        if wrap is not None:
            train = wrap(train)
        valid = msakeras.data.FeatureSequence(
            path, "valid", batch_size=8, input_keys=keys, shuffle=False
        )
        os.makedirs(directory, exist_ok=True)
        history_csv = os.path.join(directory, "history.csv")
        checkpoint = msakeras.callbacks.AtomicModelCheckpoint(
            os.path.join(directory, "model.keras"),
            monitor="val_mae",
            save_best_only=True,
        )
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_mae", patience=5
        )
        callbacks = [
            checkpoint,
            early_stopping,
            msakeras.callbacks.EpochCSVLogger(history_csv, append=True),
            msakeras.callbacks.ResumableBackup(
                os.path.join(directory, "backup"),
                stateful_callbacks=[checkpoint, early_stopping],
                datasets=[train],
                history_csv=history_csv,
                delete_checkpoint=False,
            ),
        ]
        if interrupt is not None:
            callbacks.append(InterruptAt(*interrupt))
        model.fit(
            train,
            validation_data=valid,
            epochs=epochs,
            callbacks=callbacks,
            verbose=0,
        )
        return model, callbacks

    def test_interrupted_run_resumes_to_the_same_weights(self):
        path = tiny_file(self.temp_dir)
        straight_dir = os.path.join(self.temp_dir, "straight")
        resumed_dir = os.path.join(self.temp_dir, "resumed")
        straight, straight_callbacks = self.train(path, straight_dir)
        with self.assertRaises(Interrupt):
            self.train(path, resumed_dir, interrupt=(1, 1))
        with open(os.path.join(resumed_dir, "backup", "state.json")) as file:
            self.assertEqual(json.load(file)["epoch"], 1)
        resumed, resumed_callbacks = self.train(path, resumed_dir)
        self.assertEqual(resumed_callbacks[-1].restored_epoch, 1)

        for expected, actual in zip(straight.variables, resumed.variables):
            self.assertAllClose(expected, actual, atol=1e-6, msg=expected.path)
        for expected, actual in zip(
            straight.auxiliary_optimizers()[0].variables,
            resumed.auxiliary_optimizers()[0].variables,
        ):
            self.assertAllClose(expected, actual, atol=1e-6)
        self.assertEqual(straight_callbacks[0].best, resumed_callbacks[0].best)
        with open(os.path.join(straight_dir, "history.csv")) as file:
            straight_history = file.read()
        with open(os.path.join(resumed_dir, "history.csv")) as file:
            resumed_history = file.read()
        self.assertLen(resumed_history.splitlines(), 4)  # header + 3 epochs
        self.assertEqual(straight_history, resumed_history)
        # Epochs numbered from 1, as in run.json and the progress bar.
        epochs = [line.split(",")[0] for line in resumed_history.splitlines()]
        self.assertEqual(epochs, ["epoch", "1", "2", "3"])

    def test_dataset_resume_state_is_saved_and_restored(self):
        path = tiny_file(self.temp_dir)
        straight_dir = os.path.join(self.temp_dir, "straight")
        resumed_dir = os.path.join(self.temp_dir, "resumed")
        straight, _ = self.train(path, straight_dir, wrap=LabelShift)
        with self.assertRaises(Interrupt):
            self.train(path, resumed_dir, interrupt=(1, 1), wrap=LabelShift)
        resumed, callbacks = self.train(path, resumed_dir, wrap=LabelShift)
        self.assertEqual(callbacks[-1].restored_epoch, 1)
        self.assertEqual(callbacks[-1].datasets[0].restored, 1)
        for expected, actual in zip(straight.variables, resumed.variables):
            self.assertAllClose(expected, actual, atol=1e-6, msg=expected.path)


class LabelShift(keras.utils.PyDataset):
    """Adds a shift to the labels that only the past epochs determine.

    The shift is redrawn at every epoch end from the previous shift (a
    chain, like a sampler refreshed from the model), so a resumed run
    reproduces it only from `resume_state`.
    """

    def __init__(self, sequence):
        super().__init__()
        self.sequence = sequence
        self.shift = 0.0
        self.restored = 0

    @property
    def epoch(self):
        return self.sequence.epoch

    def set_epoch(self, epoch):
        self.sequence.set_epoch(epoch)

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, index):
        inputs, labels = self.sequence[index]
        return inputs, labels + self.shift

    def on_epoch_end(self):
        self.sequence.on_epoch_end()
        self.shift = 0.5 * self.shift + 0.7

    def resume_state(self):
        return {"shift": np.asarray(self.shift)}

    def restore_resume_state(self, state):
        self.shift = float(state["shift"])
        self.restored += 1

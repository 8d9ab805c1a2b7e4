import os

import keras
import numpy as np

import msakeras
from msakeras.experiment import HeldOutTestSplit
from msakeras.experiment import SealedSelection
from msakeras.experiment import SelectionError
from msakeras.experiment import SelectionRule
from msakeras.experiment import TestSplitAccessError
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model


class SelectionRuleTest(TestCase):
    def test_selecting_on_test_or_training_metrics_raises(self):
        for monitor in ("test_mae", "val_test_mae", "mae", "loss"):
            with self.assertRaises(SelectionError, msg=monitor):
                SelectionRule(monitor)
        with self.assertRaises(ValueError):
            SelectionRule("val_mae", mode="lowest")

    def test_test_split_as_validation_data_raises(self):
        path = tiny_data(self.temp_dir)
        rule = SelectionRule()
        test = msakeras.data.FeatureSequence(path, "test", shuffle=False)
        with self.assertRaisesRegex(SelectionError, "test split"):
            rule.check_validation_data(test)
        with self.assertRaises(SelectionError):
            rule.check_validation_data(HeldOutTestSplit(path))
        valid = msakeras.data.FeatureSequence(path, "valid", shuffle=False)
        self.assertIs(rule.check_validation_data(valid), valid)

    def test_best_epoch_follows_mode(self):
        history = {"val_mae": [0.9, 0.5, float("nan"), 0.7], "mae": [0.1] * 4}
        self.assertEqual(SelectionRule("val_mae").best_epoch(history),
                         (1, 0.5))  # fmt: skip
        self.assertEqual(
            SelectionRule("val_mae", "max").best_epoch(history), (0, 0.9)
        )
        with self.assertRaises(SelectionError):
            SelectionRule("val_corr").best_epoch(history)

    def test_start_epoch_and_ties(self):
        history = {"val_mae": [0.1, 0.5, 0.4, 0.4, 0.6]}
        self.assertEqual(SelectionRule().best_epoch(history), (0, 0.1))
        self.assertEqual(
            SelectionRule(start_epoch=2).best_epoch(history), (2, 0.4)
        )
        self.assertEqual(
            SelectionRule(start_epoch=2, ties="last").best_epoch(history),
            (3, 0.4),
        )
        with self.assertRaises(SelectionError):
            SelectionRule(start_epoch=6).best_epoch(history)
        with self.assertRaises(ValueError):
            SelectionRule(ties="middle")
        with self.assertRaises(ValueError):
            SelectionRule(start_epoch=0)

    def test_checkpoint_saves_what_best_epoch_selects(self):
        # DashFusion's `check_and_save`: from epoch 2, `>=` replaces.
        values = [0.1, 0.5, 0.4, 0.4, 0.6]
        for rule, saved in (
            (SelectionRule(), [1]),
            (SelectionRule(start_epoch=2, ties="last"), [2, 3, 4]),
        ):
            directory = os.path.join(self.temp_dir, f"{rule.ties}")
            callback = rule.checkpoint_callback(
                os.path.join(directory, "model_{epoch}.keras")
            )
            callback.set_model(tiny_model())
            callback.on_train_begin()
            for epoch, value in enumerate(values):
                callback.on_epoch_end(epoch, {"val_mae": value})
            self.assertEqual(
                sorted(os.listdir(directory)),
                [f"model_{epoch}.keras" for epoch in saved],
            )
            best, _ = rule.best_epoch({"val_mae": values})
            self.assertEqual(best + 1, saved[-1])

    def test_sealed_selection_is_made_only_by_seal(self):
        with self.assertRaises(SelectionError):
            SealedSelection(None, SelectionRule(), "x", "0", 0, 0.0)


class HeldOutTestSplitTest(TestCase):
    def _train(self, path, directory):
        rule = SelectionRule("val_mae", "min")
        model = tiny_model()
        inputs = [tensor.name for tensor in model.inputs]
        train = msakeras.data.FeatureSequence(
            path, "train", batch_size=8, input_keys=inputs, seed=1
        )
        valid = msakeras.data.FeatureSequence(
            path, "valid", batch_size=8, input_keys=inputs, shuffle=False
        )
        checkpoint = os.path.join(directory, "model.keras")
        history = model.fit(
            train,
            validation_data=rule.check_validation_data(valid),
            epochs=3,
            callbacks=[rule.checkpoint_callback(checkpoint)],
            verbose=0,
        )
        return rule, checkpoint, history.history

    def test_read_needs_a_sealed_selection_and_happens_once(self):
        path = tiny_data(self.temp_dir)
        test = HeldOutTestSplit(path)
        # Before selection: no way in, not even as a dataset.
        for attempt in (
            lambda: test.read(None),
            lambda: test.read(SelectionRule()),
            lambda: len(test),
            lambda: iter(test),
            lambda: test[0],
        ):
            with self.assertRaises(TestSplitAccessError):
                attempt()
        self.assertFalse(test.was_read)
        rule, checkpoint, history = self._train(path, self.temp_dir)
        sealed = rule.seal(checkpoint, history)
        best = int(np.argmin(history["val_mae"]))
        self.assertEqual(sealed.best_epoch, best)
        self.assertAlmostEqual(sealed.best_value, min(history["val_mae"]))
        data = test.read(sealed)
        self.assertTrue(test.was_read)
        labels = msakeras.data.load_split(path, "test")["label"]
        np.testing.assert_array_equal(data.labels(), labels.astype("float64"))
        model = keras.models.load_model(checkpoint)
        predictions = data.predict(model, batch_size=5)["sentiment"]
        self.assertEqual(predictions.shape, (len(labels), 1))
        self.assertTrue(np.all(np.isfinite(predictions)))
        with self.assertRaisesRegex(TestSplitAccessError, "already read"):
            test.read(sealed)

    def test_changed_checkpoint_after_sealing_raises(self):
        path = tiny_data(self.temp_dir)
        rule, checkpoint, history = self._train(path, self.temp_dir)
        sealed = rule.seal(checkpoint, history)
        with open(checkpoint, "ab") as handle:
            handle.write(b"tampered")
        with self.assertRaisesRegex(TestSplitAccessError, "changed"):
            HeldOutTestSplit(path).read(sealed)

    def test_seal_without_checkpoint_raises(self):
        with self.assertRaises(SelectionError):
            SelectionRule().seal(
                os.path.join(self.temp_dir, "none.keras"), {"val_mae": [1.0]}
            )

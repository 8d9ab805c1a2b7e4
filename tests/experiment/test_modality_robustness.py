import os

import keras
import numpy as np
import pandas as pd

import msakeras
from msakeras.experiment import modality_robustness as robustness
from msakeras.robustness import __main__ as robustness_cli
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model


class PerturbationTest(TestCase):
    def setUp(self):
        super().setUp()
        self.arrays = msakeras.data.load_split(tiny_data(self.temp_dir), "test")

    def test_removal(self):
        arrays = self.arrays
        removed = robustness.remove_modality(arrays, "audio")
        self.assertTrue(np.all(removed["audio"] == 0))
        np.testing.assert_array_equal(removed["audio_mask"][:, 0], 1)
        self.assertEqual(int(removed["audio_mask"].sum()), len(arrays["label"]))
        np.testing.assert_array_equal(removed["vision"], arrays["vision"])
        text = robustness.remove_modality(arrays, "text")
        lengths = arrays["text_padding_mask"].sum(axis=1)
        rows = np.arange(len(lengths))
        np.testing.assert_array_equal(
            text["text_token_ids"][:, 0], arrays["text_token_ids"][:, 0]
        )
        np.testing.assert_array_equal(
            text["text_token_ids"][:, 1],
            arrays["text_token_ids"][rows, lengths - 1],
        )
        self.assertTrue(np.all(text["text_token_ids"][:, 2:] == 0))
        self.assertTrue(np.all(text["text_padding_mask"].sum(axis=1) == 2))
        with self.assertRaises(ValueError):
            robustness.remove_modality(arrays, "smell")

    def test_noise_scales_with_feature_std_on_valid_frames_only(self):
        arrays = self.arrays
        rng = np.random.default_rng(3)
        noisy = robustness.add_noise(arrays, "vision", 0.5, rng)
        valid = arrays["vision_mask"].astype(bool)
        difference = noisy["vision"] - arrays["vision"]
        self.assertTrue(np.all(difference[~valid] == 0))
        self.assertGreater(np.abs(difference[valid]).mean(), 0)
        expected = np.random.default_rng(3).standard_normal(
            arrays["vision"].shape
        ) * (0.5 * arrays["vision"][valid].std(axis=0))
        np.testing.assert_allclose(
            difference[valid], expected[valid], rtol=1e-4, atol=1e-5
        )
        unchanged = robustness.add_noise(arrays, "audio", 0.0, rng)
        np.testing.assert_array_equal(unchanged["audio"], arrays["audio"])
        text = robustness.add_noise(arrays, "text", 1.0, rng)
        np.testing.assert_array_equal(
            text["text_padding_mask"], arrays["text_padding_mask"]
        )
        # [CLS], [SEP] and padding stay; inner tokens come from the split.
        lengths = arrays["text_padding_mask"].sum(axis=1)
        rows = np.arange(len(lengths))
        np.testing.assert_array_equal(
            text["text_token_ids"][rows, lengths - 1],
            arrays["text_token_ids"][rows, lengths - 1],
        )
        self.assertTrue(
            np.all(text["text_token_ids"][arrays["text_padding_mask"] == 0]
                   == 0)
        )  # fmt: skip


class RobustnessCommandTest(TestCase):
    def test_tiny_model_gives_table_and_png(self):
        path = tiny_data(self.temp_dir, num=48)
        model = tiny_model()
        inputs = [tensor.name for tensor in model.inputs]
        train = msakeras.data.FeatureSequence(
            path, "train", batch_size=16, input_keys=inputs
        )
        model.fit(train, epochs=4, verbose=0)
        model_path = os.path.join(self.temp_dir, "model.keras")
        model.save(model_path)
        output = os.path.join(self.temp_dir, "robustness")
        levels = ["0.5", "2"]
        code = robustness_cli.main(
            [model_path, "--data", path, "--levels", *levels,
             "--output-dir", output]
        )  # fmt: skip
        self.assertEqual(code, 0)
        table = pd.read_csv(os.path.join(output, "robustness.csv"))
        self.assertEqual(len(table), 1 + 3 * (len(levels) + 1))
        self.assertEqual(
            sorted(set(table["perturbation"])), ["clean", "noise", "removed"]
        )
        # Clean row: the metrics of the model's own predictions (NumPy).
        arrays = msakeras.data.load_split(path, "test")
        reloaded = keras.models.load_model(model_path)
        predictions = reloaded.predict(
            {name: arrays[name].astype(tensor.dtype)
             for name, tensor in zip(inputs, reloaded.inputs)}, verbose=0
        )["sentiment"].reshape(-1)  # fmt: skip
        clean = table[table["perturbation"] == "clean"].iloc[0]
        self.assertAlmostEqual(
            clean["MAE"], np.mean(np.abs(predictions - arrays["label"])), 5
        )
        self.assertAlmostEqual(
            clean["Corr"], np.corrcoef(predictions, arrays["label"])[0, 1], 4
        )
        # Removing audio: the model fed zero audio with one valid frame.
        removed = robustness.remove_modality(arrays, "audio")
        removed_predictions = reloaded.predict(
            {name: removed[name].astype(tensor.dtype)
             for name, tensor in zip(inputs, reloaded.inputs)}, verbose=0
        )["sentiment"].reshape(-1)  # fmt: skip
        row = table[
            (table["modality"] == "audio")
            & (table["perturbation"] == "removed")
        ].iloc[0]
        self.assertAlmostEqual(
            row["MAE"],
            np.mean(np.abs(removed_predictions - arrays["label"])),
            5,
        )
        png = os.path.join(output, "robustness.png")
        self.assertTrue(os.path.isfile(png))
        with open(png, "rb") as handle:
            self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(png), 10_000)

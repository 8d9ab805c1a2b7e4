import csv
import os

import h5py
import keras
import numpy as np
import pytest

import msakeras
from msakeras import predict
from msakeras.testing import TestCase
from tests.models.mmim import test_mmim_model


def tiny_file(directory, name="tiny.h5", **kwargs):
    settings = dict(
        num_train=4,
        num_valid=4,
        num_test=11,
        text_length=8,
        audio_steps=6,
        vision_steps=5,
        audio_dim=5,
        vision_dim=4,
        vocabulary_size=100,
    )
    settings.update(kwargs)
    return msakeras.data.make_synthetic_dataset(
        os.path.join(directory, name), **settings
    )


class PredictTest(TestCase):
    def setUp(self):
        super().setUp()
        self.model = test_mmim_model.tiny_model()
        self.model_path = os.path.join(self.temp_dir, "mmim.keras")
        self.model.save(self.model_path)
        self.data = tiny_file(self.temp_dir)
        self.output = os.path.join(self.temp_dir, "preds.csv")

    def test_writes_ids_predictions_labels_and_scores(self):
        scores = predict.main(
            [
                self.model_path,
                "--data",
                self.data,
                "--output",
                self.output,
                "--batch-size",
                "4",
                "--verbose",
                "0",
            ]
        )
        with open(self.output, newline="") as handle:
            rows = list(csv.DictReader(handle))
        test = msakeras.data.load_split(self.data, "test")
        self.assertEqual([row["id"] for row in rows], list(test["id"]))
        self.assertAllClose(
            np.asarray([float(row["label"]) for row in rows]), test["label"]
        )
        inputs = {key: test[key] for key in msakeras.data.MODEL_INPUT_KEYS[:6]}
        expected = self.model.predict(inputs, verbose=0)["sentiment"][:, 0]
        got = np.asarray([float(row["prediction"]) for row in rows])
        self.assertAllClose(got, expected, atol=1e-5)
        self.assertAllClose(
            np.float64(scores["MAE"]),
            np.mean(np.abs(expected - test["label"])),
            atol=1e-5,
        )
        self.assertEqual(
            sorted(os.listdir(self.temp_dir)).count("preds.csv"), 1
        )

    def assert_refused(self, data, *patterns, model=None):
        with self.assertRaises(SystemExit) as context:
            predict.main(
                [
                    model or self.model_path,
                    "--data",
                    data,
                    "--output",
                    self.output,
                    "--verbose",
                    "0",
                ]
            )
        message = str(context.exception)
        for pattern in patterns:
            self.assertRegex(message, pattern)
        self.assertFalse(os.path.exists(self.output))
        self.assertEqual(
            [name for name in os.listdir(self.temp_dir) if "partial" in name],
            [],
        )

    def test_wrong_feature_width_is_refused(self):
        data = tiny_file(self.temp_dir, "wide.h5", audio_dim=7)
        self.assert_refused(
            data, "wide.h5", "'test'", "'audio'", r"\(11, 6, 7\)", r"5\)"
        )

    def test_missing_key_is_refused(self):
        with h5py.File(self.data, "a") as file:
            del file["test"]["vision_mask"]
        self.assert_refused(self.data, "tiny.h5", "missing", "'vision_mask'")

    def test_nan_feature_is_refused(self):
        with h5py.File(self.data, "a") as file:
            audio = file["test"]["audio"][()]
            audio[9, 0, 0] = np.nan
            file["test"]["audio"][...] = audio
        self.assert_refused(self.data, "tiny.h5", "'audio'", "sample 9")

    def test_nan_feature_without_labels_is_refused_per_batch(self):
        with h5py.File(self.data, "a") as file:
            del file["test"]["label"]
            vision = file["test"]["vision"][()]
            vision[10, 1, 2] = np.inf
            file["test"]["vision"][...] = vision
        self.assert_refused(self.data, "'vision'", "NaN or inf", "sample 10")

    def test_label_out_of_range_is_refused(self):
        with h5py.File(self.data, "a") as file:
            labels = file["test"]["label"][()]
            labels[3] = 4.5
            file["test"]["label"][...] = labels
        self.assert_refused(self.data, "'label'", r"\[-3.0, 3.0\]", "sample 3")

    def test_wrong_format_version_is_refused(self):
        with h5py.File(self.data, "a") as file:
            file.attrs["format_version"] = 7
        self.assert_refused(self.data, "tiny.h5", "format_version=7")

    def test_empty_split_is_refused(self):
        with h5py.File(self.data, "a") as file:
            del file["test"]
            group = file.create_group("test")
            for key, value in h5py.File(self.data, "r")["train"].items():
                shape = (0,) + value.shape[1:]
                group.create_dataset(key, shape=shape, dtype=value.dtype)
        self.assert_refused(self.data, "tiny.h5", "empty")

    def test_keras_file_of_another_class_is_refused(self):
        inputs = keras.Input((3,), name="audio")
        plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        path = os.path.join(self.temp_dir, "plain.keras")
        plain.save(path)
        self.assert_refused(self.data, "plain.keras", "sentiment", model=path)
        with self.assertRaisesRegex(ValueError, "MMIMModel.*not.*HyConModel"):
            msakeras.models.load_msa_model(
                self.model_path, expected_class=msakeras.models.HyConModel
            )

    @pytest.mark.large
    def test_saved_model_folder_gives_the_same_predictions(self):
        from msakeras.export import export_saved_model

        record = export_saved_model(
            self.model_path, os.path.join(self.temp_dir, "served")
        )
        keras_output = os.path.join(self.temp_dir, "keras.csv")
        for model, output in (
            (self.model_path, keras_output),
            (record["path"], self.output),
        ):
            predict.main(
                [
                    model,
                    "--data",
                    self.data,
                    "--output",
                    output,
                    "--verbose",
                    "0",
                ]
            )
        with open(keras_output, newline="") as handle:
            expected = [
                float(row["prediction"]) for row in csv.DictReader(handle)
            ]
        with open(self.output, newline="") as handle:
            served = [
                float(row["prediction"]) for row in csv.DictReader(handle)
            ]
        self.assertLen(served, 11)
        self.assertAllClose(np.asarray(served), np.asarray(expected), atol=1e-4)

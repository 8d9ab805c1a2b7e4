"""Training feature statistics in the file; far-out inputs warn."""

import os
import warnings

import h5py
import numpy as np

import msakeras
from msakeras.data import feature_statistics
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data


def _no_range_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [
        w
        for w in caught
        if issubclass(w.category, feature_statistics.FeatureRangeWarning)
    ]


class FeatureStatisticsTest(TestCase):
    def test_statistics_match_numpy_over_valid_frames(self):
        rng = np.random.default_rng(0)
        audio = rng.normal(2.0, 3.0, (6, 5, 3)).astype("float32")
        mask = (np.arange(5)[None] < rng.integers(1, 6, (6, 1))).astype("int8")
        audio[mask == 0] = 1e6  # padding: never counted
        arrays = {
            "audio": audio,
            "audio_mask": mask,
            "vision": np.ones((6, 2, 2), "float32"),
            "vision_mask": np.ones((6, 2), "int8"),
        }
        stats = feature_statistics.compute_statistics(arrays)
        valid = audio[mask == 1].astype("float64")
        expected = {
            "mean": valid.mean(),
            "std": valid.std(),
            "min": valid.min(),
            "max": valid.max(),
            "abs_p99": np.percentile(np.abs(valid), 99),
        }
        for name, value in expected.items():
            self.assertAllClose(stats[f"audio_train_{name}"], value, rtol=1e-9)
        self.assertEqual(stats["vision_train_std"], 0.0)

    def test_written_file_records_them(self):
        path = tiny_data(self.temp_dir)
        attributes = msakeras.data.read_attributes(path)
        train = msakeras.data.load_split(path, "train")
        valid = train["vision"][train["vision_mask"] == 1]
        self.assertAllClose(
            attributes["vision_train_max"], valid.max(), rtol=1e-6
        )
        self.assertAllClose(
            attributes["vision_train_abs_p99"],
            np.percentile(np.abs(valid.astype("float64")), 99),
            rtol=1e-6,
        )

    def test_far_out_test_values_warn_before_training(self):
        path = tiny_data(self.temp_dir)
        self.assertEqual(
            _no_range_warnings(lambda: msakeras.data.validate_file(path)), []
        )
        with h5py.File(path, "a") as file:
            audio = file["test"]["audio"][()]
            audio[3, 0, 1] = 1e30  # finite: the schema accepts it
            file["test"]["audio"][...] = audio
        caught = _no_range_warnings(lambda: msakeras.data.validate_file(path))
        self.assertEqual(len(caught), 1)
        self.assertRegex(
            str(caught[0].message),
            r"tiny\.h5', split 'test': key 'audio' with shape \(12, 6, 3\) "
            r"has 1 value\(s\) .* first at sample 3, largest 1e\+30",
        )

    def test_far_out_training_values_warn_when_written(self):
        splits, attributes = msakeras.data.generate_synthetic_splits(
            num_train=40, num_valid=4, num_test=4, audio_dim=3, vision_dim=4
        )
        splits["train"]["vision"][7, 0, 2] = -1e30
        path = os.path.join(self.temp_dir, "extreme.h5")
        caught = _no_range_warnings(
            lambda: msakeras.data.write_dataset(path, splits, attributes)
        )
        self.assertEqual(len(caught), 1)
        self.assertRegex(
            str(caught[0].message),
            r"split 'train': key 'vision' .* first at sample 7",
        )

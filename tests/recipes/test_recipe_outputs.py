"""What a recipe run prints and writes: the effective configuration, quiet
logs, epochs from 1, curves, the cross-model table (issue #22)."""

import os
import subprocess
import sys

import keras
import pandas as pd
import pytest

from msakeras import _framework_logs
from msakeras.testing import TestCase
from tests.recipes import recipe_runner

NOISE = (
    "absl::InitializeLog",
    "cuInit",
    "cudart_stub",
    "entropy_skipped_classes",
    "CPC without",
    "Skipping variable loading",
)


def _run(arguments, backend=None, log_level=None):
    environment = dict(
        os.environ,
        KERAS_BACKEND=backend or keras.config.backend(),
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell
    if log_level is not None:
        environment["TF_CPP_MIN_LOG_LEVEL"] = log_level
    return subprocess.run(
        [sys.executable, os.path.join(recipe_runner.ROOT, "recipes", "mmim.py")]
        + list(arguments),
        capture_output=True,
        text=True,
        env=environment,
        cwd=recipe_runner.ROOT,
        timeout=900,
    )


def test_native_tensorflow_lines_are_noise_at_their_levels():
    info = "I0000 00:00:1796462122.575161   20162 cudart_stub.cc:31] No cuda"
    error = "E0000 00:00:1796462153.671003   20162 cuda_platform.cc:52] cuInit"
    header = "WARNING: All log messages before absl::InitializeLog() is called"
    assert _framework_logs.is_noise(info, 1)
    assert not _framework_logs.is_noise(info, 0)
    assert not _framework_logs.is_noise(error, 2)
    assert _framework_logs.is_noise(error, 3)
    assert _framework_logs.is_noise(header, 3)
    assert not _framework_logs.is_noise("Traceback (most recent call", 3)
    environ = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    assert _framework_logs.set_quiet_defaults(environ) == []
    assert environ == {"TF_CPP_MIN_LOG_LEVEL": "0"}  # the user's is kept
    environ = {}
    assert _framework_logs.set_quiet_defaults(environ) == [
        "TF_CPP_MIN_LOG_LEVEL"
    ]


@pytest.mark.large
class RecipeOutputsTest(TestCase):
    def test_run_prints_and_records_the_configuration_quietly(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "runs")
        result = _run(
            ["--data", data, "--epochs", "2", "--batch-size", "16",
             "--seeds", "7", "--output-dir", output, "--verbose", "1",
             "--set", "fusion_dim=16"]
        )  # fmt: skip
        printed = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, printed[-3000:])
        for noise in NOISE:
            self.assertNotIn(noise, printed)
        self.assertIn("mmim on mosi:", result.stdout)
        (line,) = [
            line
            for line in result.stdout.splitlines()
            if line.strip().startswith("fusion_dim ")
        ]
        self.assertEqual(line.split(), ["fusion_dim", ":", "16", "(--set)"])
        record = recipe_runner.read_run(output, 7)
        self.assertEqual(record["hyperparameters"]["fusion_dim"], 16)
        self.assertEqual(
            record["arguments"]["configuration_sources"],
            {"fusion_dim": "--set"},
        )
        seed_dir = os.path.join(output, "seed_7")
        history = pd.read_csv(os.path.join(seed_dir, "history.csv"))
        self.assertEqual(history["epoch"].tolist(), [1, 2])
        self.assertIn("entropy_skipped_classes", history)  # kept in logs
        self.assertEqual(record["epochs_run"], 2)
        for name in ("curves.png", "curves.pdf"):
            self.assertTrue(os.path.isfile(os.path.join(seed_dir, name)))
        # The cross-model table beside --output-dir: one row for mmim.
        table = pd.read_csv(os.path.join(self.temp_dir, "results_mosi.csv"))
        self.assertEqual(table["model"].tolist(), ["mmim"])
        self.assertEqual(int(table["n_seeds"].iloc[0]), 1)
        self.assertIn("fusion_dim=16", table["changes"].iloc[0])
        self.assertAlmostEqual(
            table["MAE_mean"].iloc[0], record["test"]["MAE"], places=12
        )
        with open(os.path.join(self.temp_dir, "results_mosi.md")) as handle:
            self.assertIn("| mmim ", handle.read())

    def test_tensorflow_start_up_lines_are_filtered_unless_asked_for(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        arguments = ["--data", data, "--set", "bogus=1"]
        quiet = _run(arguments, backend="tensorflow")
        self.assertNotEqual(quiet.returncode, 0)
        self.assertIn("unknown key 'bogus'", quiet.stderr)
        for noise in NOISE:
            self.assertNotIn(noise, quiet.stdout + quiet.stderr)
        # A user who sets the level gets TensorFlow's lines back.
        loud = _run(arguments, backend="tensorflow", log_level="0")
        self.assertIn("unknown key 'bogus'", loud.stderr)
        self.assertIn("absl::InitializeLog", loud.stderr)

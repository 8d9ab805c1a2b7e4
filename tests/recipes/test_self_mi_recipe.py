import json
import os
import subprocess
import sys

import pytest

import msakeras
from msakeras.testing import test_case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


@pytest.mark.large
class SelfMIRecipeTest(test_case.TestCase):
    def test_recipe_runs_one_epoch(self):
        data = msakeras.data.make_synthetic_dataset(
            os.path.join(self.temp_dir, "tiny.h5"),
            dataset="mosi",
            num_train=16,
            num_valid=8,
            num_test=8,
            text_length=8,
            audio_steps=6,
            vision_steps=6,
        )
        output = os.path.join(self.temp_dir, "runs")
        environment = dict(os.environ, OMP_NUM_THREADS="1")
        result = subprocess.run(
            [
                sys.executable,
                os.path.join(ROOT, "recipes", "self_mi.py"),
                "--data",
                data,
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--seeds",
                "1111",
                "--output-dir",
                output,
                "--verbose",
                "0",
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("Single-modality ridge baselines", result.stdout)
        with open(os.path.join(output, "seed_1111", "run.json")) as handle:
            record = json.load(handle)
        self.assertIn("Corr", record["test"])
        self.assertEqual(record["hyperparameters"]["epochs"], 1)
        self.assertTrue(os.path.isfile(os.path.join(output, "summary.csv")))

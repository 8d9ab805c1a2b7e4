import os

import keras
import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner

MMSA_KEYS = [
    "Has0_acc_2",
    "Has0_F1_score",
    "Non0_acc_2",
    "Non0_F1_score",
    "Mult_acc_5",
    "Mult_acc_7",
    "MAE",
    "Corr",
]


@pytest.mark.large
class MMIMRecipeTest(TestCase):
    def test_runs_end_to_end_and_resumes(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "runs")
        arguments = [
            "--data",
            data,
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--seeds",
            "7",
            "--output-dir",
            output,
            "--verbose",
            "2",
        ]
        result = recipe_runner.run_recipe("mmim", *arguments)
        self.assertIn("ridge_text", result.stdout)
        self.assertIn(f"backend {keras.config.backend()}", result.stdout)
        run = recipe_runner.read_run(output, 7)
        self.assertEqual(list(run["test"]), MMSA_KEYS)
        self.assertEqual(run["backend"], keras.config.backend())
        self.assertEqual(run["hyperparameters"]["epochs"], 1)
        self.assertLen(run["data"]["sha256"], 64)
        for name in ("model.keras", "history.csv", "curves.png"):
            self.assertTrue(
                os.path.isfile(os.path.join(output, "seed_7", name)), name
            )
        for name in ("summary.csv", "summary.md"):
            self.assertTrue(os.path.isfile(os.path.join(output, name)))
        self.assertIn(
            "mi_stage_loss",
            open(os.path.join(output, "seed_7", "history.csv")).readline(),
        )

        # Reusing the folder without --resume is refused; with it, the
        # finished seed is skipped and its scores are reported again.
        refused = recipe_runner.run_recipe("mmim", *arguments, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--resume", refused.stderr)
        resumed = recipe_runner.run_recipe("mmim", *arguments, "--resume")
        self.assertIn("finished earlier", resumed.stdout)

    def test_sims_recipe_trains_bidirectional_end_to_end(self):
        # SIMS uses MMSA's `mmim` settings, whose sLSTMs are bidirectional:
        # the CPC predictors once crashed on the first training step there.
        data = recipe_runner.tiny_dataset(self.temp_dir, dataset="sims")
        output = os.path.join(self.temp_dir, "runs_sims")
        recipe_runner.run_recipe(
            "mmim",
            "--data", data, "--dataset", "sims", "--epochs", "1",
            "--batch-size", "16", "--seeds", "7", "--output-dir", output,
            "--verbose", "0",
        )  # fmt: skip
        run = recipe_runner.read_run(output, 7)
        self.assertTrue(run["hyperparameters"]["bidirectional"])
        self.assertIn("Mult_acc_5", run["test"])  # SIMS metric set
        for value in run["test"].values():
            self.assertTrue(value == value, run["test"])  # not NaN

    def test_dataset_flag_must_agree_with_the_file(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        result = recipe_runner.run_recipe(
            "mmim",
            "--data",
            data,
            "--dataset",
            "sims",
            "--output-dir",
            os.path.join(self.temp_dir, "runs"),
            check=False,
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("disagrees", result.stderr)

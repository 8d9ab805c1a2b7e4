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
class DashFusionRecipeTest(TestCase):
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
        result = recipe_runner.run_recipe("dashfusion", *arguments)
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
        header = open(os.path.join(output, "seed_7", "history.csv")).readline()
        for name in ("contrastive_loss", "supervised_contrastive_loss"):
            self.assertIn(name, header)
        self.assertEqual(run["hyperparameters"]["partners_per_role"], 2)

        # Reusing the folder without --resume is refused; with it, the
        # finished seed is skipped and its scores are reported again.
        refused = recipe_runner.run_recipe(
            "dashfusion", *arguments, check=False
        )
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--resume", refused.stderr)
        resumed = recipe_runner.run_recipe("dashfusion", *arguments, "--resume")
        self.assertIn("finished earlier", resumed.stdout)

    def test_ablation_flags_reach_the_model(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "ablation")
        recipe_runner.run_recipe(
            "dashfusion",
            "--data",
            data,
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--seeds",
            "3",
            "--output-dir",
            output,
            "--verbose",
            "0",
            "--no-temporal-alignment",
            "--no-contrastive",
            "--fusion",
            "concat",
        )
        run = recipe_runner.read_run(output, 3)
        self.assertEqual(run["hyperparameters"]["contrastive_weight"], 0.0)
        self.assertEqual(run["hyperparameters"]["partners_per_role"], 0)
        self.assertEqual(run["arguments"]["fusion"], "concat")
        self.assertTrue(run["arguments"]["no_temporal_alignment"])
        model = keras.models.load_model(
            os.path.join(output, "seed_3", "model.keras")
        )
        config = model.get_config()
        self.assertFalse(config["temporal_alignment"])
        self.assertEqual(config["fusion"], "concat")
        self.assertEqual(config["contrastive_weight"], 0.0)

    def test_dataset_flag_must_agree_with_the_file(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        result = recipe_runner.run_recipe(
            "dashfusion",
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

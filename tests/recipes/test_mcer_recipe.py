import os

import keras
import pandas as pd
import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner


@pytest.mark.large
class MCERRecipeTest(TestCase):
    def test_runs_end_to_end(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "runs")
        result = recipe_runner.run_recipe(
            "mcer",
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
        )
        self.assertIn("ridge_text", result.stdout)
        self.assertIn(f"backend {keras.config.backend()}", result.stdout)
        run = recipe_runner.read_run(output, 7)
        self.assertIn("Corr", run["test"])
        self.assertEqual(run["hyperparameters"]["epochs"], 1)
        # Paper settings with --data (Table III, MOSI).
        self.assertEqual(run["hyperparameters"]["fusion_kl_weight"], 1.9)
        self.assertEqual(run["hyperparameters"]["cross_modal_layers"], 2)
        history = pd.read_csv(os.path.join(output, "seed_7", "history.csv"))
        for column in ("discriminator_loss", "cross_modal_loss", "lld"):
            self.assertIn(column, history)
        self.assertTrue(history.drop(columns="epoch").notna().all().all())

    def test_ablation_switches(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "ablation")
        recipe_runner.run_recipe(
            "mcer",
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
            "0",
            "--without-kl-m",
            "--without-dc",
            "--without-mi",
            "--without-cross-task",
        )
        settings = recipe_runner.read_run(output, 7)["hyperparameters"]
        self.assertEqual(settings["fusion_kl_weight"], 0.0)
        self.assertEqual(settings["discriminator_weight"], 0.0)
        self.assertEqual(settings["mi_weight"], 0.0)
        self.assertEqual(settings["cross_modal_tasks"], [])

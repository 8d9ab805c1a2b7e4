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
MAG_BERT_KEYS = [
    "MAGBERT_Mult_acc_7",
    "MAGBERT_Acc_2",
    "MAGBERT_F1_score",
    "MAGBERT_MAE",
    "MAGBERT_Corr",
]


@pytest.mark.large
class HyConRecipeTest(TestCase):
    def test_runs_end_to_end_and_resumes(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "runs")
        arguments = [
            "--data", data, "--epochs", "1", "--batch-size", "16",
            "--seeds", "7", "--output-dir", output, "--verbose", "2",
        ]  # fmt: skip
        result = recipe_runner.run_recipe("hycon", *arguments)
        self.assertIn("ridge_text", result.stdout)
        self.assertIn(f"backend {keras.config.backend()}", result.stdout)
        run = recipe_runner.read_run(output, 7)
        self.assertEqual(list(run["test"]), MMSA_KEYS + MAG_BERT_KEYS)
        self.assertEqual(run["backend"], keras.config.backend())
        self.assertEqual(run["hyperparameters"]["epochs"], 1)
        self.assertEqual(run["hyperparameters"]["margin"], 0.8)
        self.assertEqual(run["arguments"]["fusion"], "add")
        for name in ("model.keras", "history.csv", "curves.png"):
            self.assertTrue(
                os.path.isfile(os.path.join(output, "seed_7", name)), name
            )
        for name in ("summary.csv", "summary.md"):
            self.assertTrue(os.path.isfile(os.path.join(output, name)))
        header = open(os.path.join(output, "seed_7", "history.csv")).readline()
        for name in ("iamcl_loss", "iemcl_loss", "scl_loss", "hybrid_loss"):
            self.assertIn(f"val_{name}", header)

        refused = recipe_runner.run_recipe("hycon", *arguments, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--resume", refused.stderr)
        resumed = recipe_runner.run_recipe("hycon", *arguments, "--resume")
        self.assertIn("finished earlier", resumed.stdout)

    def test_fusion_and_ablation_flags(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "graph")
        recipe_runner.run_recipe(
            "hycon", "--data", data, "--epochs", "1", "--batch-size", "16",
            "--seeds", "3", "--output-dir", output, "--verbose", "0",
            "--fusion", "graph", "--ablation", "no_refinement",
            "--margin", "0.7", "--last-step", "index",
        )  # fmt: skip
        run = recipe_runner.read_run(output, 3)
        self.assertEqual(run["arguments"]["fusion"], "graph")
        self.assertEqual(run["hyperparameters"]["margin"], 0.7)
        self.assertFalse(run["hyperparameters"]["refinement"])
        self.assertEqual(run["arguments"]["last_step"], "index")

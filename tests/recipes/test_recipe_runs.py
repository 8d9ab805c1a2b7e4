"""Every recipe end to end on a tiny file: records, outputs, `--resume`.

One parametrized case per recipe (HyCon, MMIM, Self-MI, MCER,
DashFusion); what only one recipe does is tested in its own file.
"""

import os

import keras
import numpy as np
import pandas as pd
import pytest
from absl.testing import parameterized

from msakeras.testing import TestCase
from tests.recipes import recipe_runner

MMSA_KEYS = recipe_runner.MMSA_KEYS
MAG_BERT_KEYS = [
    "MAGBERT_Mult_acc_7",
    "MAGBERT_Acc_2",
    "MAGBERT_F1_score",
    "MAGBERT_MAE",
    "MAGBERT_Corr",
]
# recipe: (test score keys, history.csv columns, run.json hyperparameters)
RECIPES = {
    "hycon": (
        MMSA_KEYS + MAG_BERT_KEYS,
        ["val_iamcl_loss", "val_iemcl_loss", "val_scl_loss", "val_hybrid_loss"],
        {"margin": 0.8},
    ),
    "mmim": (MMSA_KEYS, ["mi_stage_loss"], {}),
    "self_mi": (MMSA_KEYS, [], {}),
    "mcer": (
        MMSA_KEYS,
        ["discriminator_loss", "cross_modal_loss", "lld"],
        # The paper's settings with --data (Table III, MOSI).
        {"fusion_kl_weight": 1.9, "cross_modal_layers": 2},
    ),
    "dashfusion": (
        MMSA_KEYS,
        ["contrastive_loss", "supervised_contrastive_loss"],
        {"partners_per_role": 2},
    ),
}


@pytest.mark.large
class RecipeRunTest(TestCase):
    @parameterized.named_parameters(
        (name, name, *expected) for name, expected in RECIPES.items()
    )
    def test_runs_end_to_end_and_resumes(
        self, recipe, test_keys, history_columns, hyperparameters
    ):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        output = os.path.join(self.temp_dir, "runs")
        arguments = [
            "--data", data, "--epochs", "1", "--batch-size", "16",
            "--seeds", "7", "--output-dir", output, "--verbose", "2",
        ]  # fmt: skip
        result = recipe_runner.run_recipe(recipe, *arguments)
        self.assertIn("Single-modality ridge baselines", result.stdout)
        self.assertIn("ridge_text", result.stdout)
        self.assertIn(f"backend {keras.config.backend()}", result.stdout)
        run = recipe_runner.read_run(output, 7)
        self.assertEqual(run["model"], recipe)
        self.assertEqual(list(run["test"]), test_keys)
        self.assertTrue(np.isfinite(run["test"]["MAE"]))
        self.assertEqual(run["backend"], keras.config.backend())
        self.assertLen(run["data"]["sha256"], 64)
        self.assertEqual(run["hyperparameters"]["epochs"], 1)
        for key, value in hyperparameters.items():
            self.assertEqual(run["hyperparameters"][key], value, key)
        for name in ("model.keras", "history.csv", "curves.png"):
            self.assertTrue(
                os.path.isfile(os.path.join(output, "seed_7", name)), name
            )
        for name in ("summary.csv", "summary.md"):
            self.assertTrue(os.path.isfile(os.path.join(output, name)))
        history = pd.read_csv(os.path.join(output, "seed_7", "history.csv"))
        header = ",".join(history.columns)
        for column in history_columns:
            self.assertIn(column, header)
        self.assertTrue(np.isfinite(history["loss"]).all())

        # Reusing the folder without --resume is refused; with it, the
        # finished seed is skipped and its scores are reported again.
        refused = recipe_runner.run_recipe(recipe, *arguments, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--resume", refused.stderr)
        resumed = recipe_runner.run_recipe(recipe, *arguments, "--resume")
        self.assertIn("finished earlier", resumed.stdout)

    def test_dataset_flag_must_agree_with_the_file(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        result = recipe_runner.run_recipe(
            "mmim",
            "--data", data, "--dataset", "sims",
            "--output-dir", os.path.join(self.temp_dir, "runs"),
            check=False,
        )  # fmt: skip
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("disagrees", result.stderr)

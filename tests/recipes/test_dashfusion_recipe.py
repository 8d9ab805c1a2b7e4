import os

import keras
import numpy as np
import pandas as pd
import pytest
from absl.testing import parameterized

from msakeras.testing import TestCase
from tests.recipes import recipe_runner

MMSA_KEYS = recipe_runner.MMSA_KEYS
SIMS_KEYS = [
    "Mult_acc_2",
    "Mult_acc_3",
    "Mult_acc_5",
    "F1_score",
    "MAE",
    "Corr",
]


@pytest.mark.large
class DashFusionRecipeTest(TestCase):
    # Paper Tables IV-V: each ablation flag runs on its own and reaches
    # the saved model's config.
    @parameterized.named_parameters(
        (
            "no_temporal_alignment",
            ["--no-temporal-alignment"],
            {"temporal_alignment": False},
        ),
        (
            "no_semantic_alignment",
            ["--no-semantic-alignment"],
            {"semantic_alignment": False},
        ),
        (
            "no_contrastive",
            ["--no-contrastive"],
            {"contrastive_weight": 0.0, "partners_per_role": 0},
        ),
        ("concatenation", ["--fusion", "concat"], {"fusion": "concat"}),
    )
    def test_each_ablation_flag_runs(self, flags, expected_config):
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
            *flags,
        )
        run = recipe_runner.read_run(output, 3)
        self.assertEqual(list(run["test"]), MMSA_KEYS)
        self.assertTrue(np.isfinite(run["test"]["MAE"]))
        history = pd.read_csv(os.path.join(output, "seed_3", "history.csv"))
        self.assertTrue(np.isfinite(history["loss"]).all())
        if "--no-contrastive" in flags:
            self.assertEqual(run["hyperparameters"]["contrastive_weight"], 0.0)
            self.assertEqual(run["hyperparameters"]["partners_per_role"], 0)
        model = keras.models.load_model(
            os.path.join(output, "seed_3", "model.keras")
        )
        config = model.get_config()
        for key, value in expected_config.items():
            self.assertEqual(config[key], value, key)
        untouched = {
            "temporal_alignment": True,
            "semantic_alignment": True,
            "fusion": "hbf",
        }
        for key, value in untouched.items():
            if key not in expected_config:
                self.assertEqual(config[key], value, key)

    def test_sims_file_runs_with_the_sims_protocol(self):
        data = recipe_runner.tiny_dataset(self.temp_dir, dataset="sims")
        output = os.path.join(self.temp_dir, "sims")
        result = recipe_runner.run_recipe(
            "dashfusion",
            "--data",
            data,
            "--dataset",
            "sims",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--seeds",
            "5",
            "--output-dir",
            output,
            "--verbose",
            "0",
        )
        self.assertIn("(sims)", result.stdout)
        run = recipe_runner.read_run(output, 5)
        self.assertEqual(list(run["test"]), SIMS_KEYS)
        self.assertTrue(np.isfinite(run["test"]["MAE"]))
        settings = run["hyperparameters"]
        # The SIMS row of the paper's settings: exact label equality and
        # the SIMS scan fractions reach the sampler.
        self.assertFalse(settings["round_labels"])
        self.assertEqual(settings["partners_per_role"], 2)
        self.assertAlmostEqual(settings["similar_scan_fraction"], 1 / 1.6)
        model = keras.models.load_model(
            os.path.join(output, "seed_5", "model.keras")
        )
        self.assertFalse(model.get_config()["round_labels"])
        self.assertEqual(model.get_config()["vision_dim"], 709)

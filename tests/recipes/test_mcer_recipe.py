import os

import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner


@pytest.mark.large
class MCERRecipeTest(TestCase):
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

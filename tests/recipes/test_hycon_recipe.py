import os

import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner


@pytest.mark.large
class HyConFlagsTest(TestCase):
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

import os

import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner


@pytest.mark.large
class MMIMRecipeTest(TestCase):
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

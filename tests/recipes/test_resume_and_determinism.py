"""A recipe killed mid-epoch resumes to the uninterrupted result; reruns
with the same seed write the same history (issue #11)."""

import json
import os

import pytest

from msakeras.testing import TestCase
from tests.recipes import recipe_runner


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.large
class ResumeAndDeterminismTest(TestCase):
    def test_killed_run_resumes_to_the_same_test_scores(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)

        def arguments(name):
            return [
                "--data",
                data,
                "--epochs",
                "3",
                "--batch-size",
                "16",
                "--seeds",
                "7",
                "--verbose",
                "2",
                "--output-dir",
                os.path.join(self.temp_dir, name),
            ]

        recipe_runner.run_recipe("mmim", *arguments("straight"))
        straight = recipe_runner.read_run(
            os.path.join(self.temp_dir, "straight"), 7
        )

        # SIGKILL during the second epoch (after its first batch).
        killed = recipe_runner.run_recipe(
            "mmim",
            *arguments("resumed"),
            check=False,
            environment={"MSAKERAS_TEST_KILL_AT": "1,0"},
        )
        self.assertEqual(killed.returncode, -9, killed.stderr[-2000:])
        run_dir = os.path.join(self.temp_dir, "resumed", "seed_7")
        self.assertFalse(os.path.exists(os.path.join(run_dir, "run.json")))
        state = json.loads(read(os.path.join(run_dir, "backup", "state.json")))
        self.assertEqual(state["epoch"], 1)
        self.assertEqual(
            [name for name in os.listdir(run_dir) if ".partial" in name], []
        )

        resumed_output = recipe_runner.run_recipe(
            "mmim", *arguments("resumed"), "--resume"
        )
        self.assertIn("Epoch 2/3", resumed_output.stdout)
        self.assertNotIn("Epoch 1/3", resumed_output.stdout)
        resumed = recipe_runner.read_run(
            os.path.join(self.temp_dir, "resumed"), 7
        )
        for key, value in straight["test"].items():
            self.assertAllClose(resumed["test"][key], value, atol=1e-6)
        self.assertEqual(
            read(os.path.join(run_dir, "history.csv")),
            read(
                os.path.join(self.temp_dir, "straight", "seed_7", "history.csv")
            ),
        )

    def test_same_seed_gives_the_same_history_twice(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        histories = []
        for name in ("first", "second"):
            output = os.path.join(self.temp_dir, name)
            recipe_runner.run_recipe(
                "mmim",
                "--data",
                data,
                "--epochs",
                "2",
                "--batch-size",
                "16",
                "--seeds",
                "3",
                "--verbose",
                "0",
                "--output-dir",
                output,
            )
            histories.append(
                read(os.path.join(output, "seed_3", "history.csv"))
            )
        self.assertLen(histories[0].splitlines(), 3)
        self.assertEqual(histories[0], histories[1])

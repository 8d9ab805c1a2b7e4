"""Recipe runs as a user starts them: a busy folder, a changed --resume."""

import os

import pytest

import msakeras
from msakeras import experiment
from msakeras.testing import TestCase
from tests.recipes import recipe_runner


def last_line(result):
    return (result.stderr.strip() or result.stdout.strip()).splitlines()[-1]


@pytest.mark.large
class RunConflictTest(TestCase):
    def arguments(self, data, *extra):
        return [
            "--data", data, "--epochs", "3", "--batch-size", "16",
            "--seeds", "7", "--verbose", "2",
            "--output-dir", os.path.join(self.temp_dir, "runs"), *extra,
        ]  # fmt: skip

    def test_a_second_run_on_a_busy_output_dir_is_refused(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        lock = experiment.RunLock(os.path.join(self.temp_dir, "runs"))
        lock.acquire()
        try:
            result = recipe_runner.run_recipe(
                "mmim", *self.arguments(data), check=False
            )
        finally:
            lock.release()
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        self.assertRegex(last_line(result), "runs is in use by a running job")
        self.assertNotIn("Traceback", result.stderr)
        self.assertFalse(
            os.path.exists(os.path.join(self.temp_dir, "runs", "seed_7"))
        )

    def test_resume_with_another_batch_size_or_file_is_refused(self):
        data = recipe_runner.tiny_dataset(self.temp_dir)
        killed = recipe_runner.run_recipe(
            "mmim",
            *self.arguments(data),
            check=False,
            environment={"MSAKERAS_TEST_KILL_AT": "1,0"},
        )
        self.assertEqual(killed.returncode, -9, killed.stderr[-2000:])
        history = os.path.join(self.temp_dir, "runs", "seed_7", "history.csv")
        with open(history) as handle:
            before = handle.read()
        other_data = os.path.join(self.temp_dir, "other.h5")
        msakeras.data.make_synthetic_dataset(
            other_data, num_train=32, num_valid=16, num_test=16,
            audio_steps=12, vision_steps=10, seed=1,
        )  # fmt: skip
        for arguments, pattern in [
            (
                self.arguments(data, "--resume", "--batch-size", "8"),
                "batch_size 16 -> 8",
            ),
            (self.arguments(other_data, "--resume"), "data_sha256"),
        ]:
            with self.subTest(pattern=pattern):
                result = recipe_runner.run_recipe(
                    "mmim", *arguments, check=False
                )
                self.assertEqual(result.returncode, 1, result.stderr[-2000:])
                self.assertRegex(last_line(result), pattern)
                self.assertNotIn("Traceback", result.stderr)
                with open(history) as handle:
                    self.assertEqual(handle.read(), before)

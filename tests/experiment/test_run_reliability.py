"""Recipe runs: output-folder lock, --resume settings, early refusals."""

import os
import signal
import subprocess
import sys
import time

import h5py

from msakeras import experiment
from msakeras.data import feature_statistics
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_lock
from msakeras.experiment import run_records
from msakeras.experiment import seed_loop
from msakeras.testing import TestCase
from tests import disk_faults
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model

SETTINGS = {"mosi": {"batch_size": 8, "epochs": 2, "patience": 5}}

# Holds the lock in a bare Python (run_lock.py imports only the stdlib).
HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("run_lock", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
held = module.RunLock(sys.argv[2]).acquire()
print("locked", flush=True)
time.sleep(120)
"""


class RunLockTest(TestCase):
    def test_second_holder_is_refused_until_release(self):
        folder = os.path.join(self.temp_dir, "runs")
        first = experiment.RunLock(folder).acquire()
        with self.assertRaisesRegex(experiment.RunLockError, "in use") as ctx:
            experiment.RunLock(folder).acquire()
        self.assertNotIn("\n", str(ctx.exception))
        first.release()
        experiment.RunLock(folder).acquire().release()

    def test_a_killed_holder_leaves_no_stale_lock(self):
        folder = os.path.join(self.temp_dir, "runs")
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, run_lock.__file__, folder],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            with self.assertRaisesRegex(
                experiment.RunLockError, f"pid {holder.pid}"
            ):
                experiment.RunLock(folder).acquire()
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            holder.stdout.close()
        deadline = time.time() + 10
        while True:
            try:
                experiment.RunLock(folder).acquire().release()
                break
            except experiment.RunLockError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.assertTrue(os.path.exists(os.path.join(folder, ".msakeras.lock")))


class RecipeRefusalTest(TestCase):
    def setUp(self):
        super().setUp()
        self.data = tiny_data(self.temp_dir)
        self.output = os.path.join(self.temp_dir, "runs")

    def finish(self, *flags, data=None):
        args = recipe_arguments.base_parser("tiny", "").parse_args(
            ["--data", data or self.data, "--output-dir", self.output,
             "--verbose", "0", *map(str, flags)]
        )  # fmt: skip
        return recipe_arguments.finish_args(args, "tiny", SETTINGS, {})

    def assert_exits(self, pattern, *flags, data=None):
        with self.assertRaises(SystemExit) as context:
            self.finish(*flags, data=data)
        message = str(context.exception.code)
        self.assertRegex(message, pattern)
        self.assertNotIn("\n", message)
        self.assertFalse(os.path.exists(self.output))

    def test_bad_flags_are_refused_before_training(self):
        for flags, pattern in [
            (("--epochs", 0), "--epochs must be at least 1, got 0"),
            (("--epochs", -2), "--epochs must be at least 1, got -2"),
            (("--batch-size", 0), "--batch-size must be at least 1"),
            (("--patience", -1), "--patience must be 0 or more"),
            (("--seeds", -1), "--seeds: -1 is outside"),
            (("--seeds", 2**40), f"--seeds: {2**40} is outside"),
            (("--seeds", 3, 4, 3), r"--seeds: \[3\] given more than once"),
            (("--max-train-samples", 0), "--max-train-samples must be"),
        ]:
            with self.subTest(flags=flags):
                self.assert_exits(pattern, *flags)
        self.finish("--seeds", 0, 2**32 - 1, "--patience", 0)  # edges pass

    def test_faults_in_the_test_split_are_refused_before_training(self):
        with h5py.File(self.data, "a") as file:
            file["test"]["bad_key"] = file["test"]["label"][()]
        self.assert_exits(r"split 'test'.*unknown key\(s\) \['bad_key'\]")
        with h5py.File(self.data, "a") as file:
            del file["test"]
        self.assert_exits("has no split 'test'")

    def test_a_second_run_on_a_locked_output_dir_is_refused(self):
        args = self.finish("--seeds", 7)
        holder = experiment.RunLock(self.output).acquire()
        try:
            with self.assertRaises(SystemExit) as context:
                seed_loop.train_seeds(args, lambda args: tiny_model())
        finally:
            holder.release()
        self.assertRegex(str(context.exception.code), "in use by a running")
        self.assertEqual(os.listdir(self.output), [".msakeras.lock"])

    def test_resume_with_other_data_or_settings_is_refused(self):
        args = self.finish("--seeds", 7)
        directory = run_records.run_directory(args, 7)
        run_records.check_resume_settings(
            args, directory
        )  # a fresh run records
        other = tiny_data(self.temp_dir, name="other.h5", seed=1)
        for flags, data, pattern in [
            (("--batch-size", 4), None, "batch_size 8 -> 4"),
            ((), other, "data_sha256"),
            (("--max-train-samples", 5), None, "max_train_samples None -> 5"),
        ]:
            with self.subTest(flags=flags, data=data):
                resumed = self.finish(
                    "--seeds", 7, "--resume", *flags, data=data
                )
                with self.assertRaises(SystemExit) as context:
                    run_records.check_resume_settings(resumed, directory)
                message = str(context.exception.code)
                self.assertRegex(message, pattern)
                self.assertIn("settings changed", message)
                self.assertNotIn("\n", message)
        same = self.finish("--seeds", 7, "--resume")
        run_records.check_resume_settings(
            same, directory
        )  # unchanged: accepted

    def assert_disk_fault(self, fault, pattern):
        args = self.finish("--seeds", 7, "--epochs", 1)
        with fault:
            with self.assertRaises(SystemExit) as context:
                seed_loop.train_seeds(args, lambda args: tiny_model())
        message = str(context.exception.code)
        self.assertRegex(message, pattern)
        self.assertNotIn("\n", message)
        left = disk_faults.leftovers(self.output)
        self.assertFalse([p for p in left if "partial" in p], left)
        return left

    def test_read_only_output_dir_is_one_line(self):
        left = self.assert_disk_fault(
            disk_faults.read_only(self.output),
            r"tiny run: cannot write '.*runs.*': .*\((EROFS|EACCES)\)",
        )
        self.assertEqual(left, [])

    def test_full_disk_mid_run_is_one_line_and_publishes_nothing(self):
        left = self.assert_disk_fault(
            disk_faults.full_disk(self.output, match="model.keras"),
            r"tiny run: cannot write '.*model\.keras': .*\(ENOSPC\)",
        )
        self.assertFalse([p for p in left if p.endswith("model.keras")], left)

    def test_far_out_feature_values_warn_before_training(self):
        with h5py.File(self.data, "a") as file:
            audio = file["valid"]["audio"][()]
            audio[1, 0, 0] = 1e30
            file["valid"]["audio"][...] = audio
        with self.assertWarnsRegex(
            feature_statistics.FeatureRangeWarning,
            r"split 'valid': key 'audio' .* first at sample 1",
        ):
            self.finish("--seeds", 7)

"""Export and predict: bad `.keras` files, --version, kills, staging."""

import io
import os
import signal
import subprocess
import sys
import time
import zipfile

import keras

from msakeras import predict
from msakeras.export import __main__ as export_main
from msakeras.export import process_safety
from msakeras.models import input_checks
from msakeras.testing import TestCase
from tests import disk_faults
from tests.models.mmim import test_mmim_model
from tests.test_predict import tiny_file

# A parent (stdlib only) that runs a sleeping child through run_child.
PARENT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("ps", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.run_child([sys.executable, "-c",
    "import os, time; print(os.getpid(), flush=True); time.sleep(120)"])
"""


def _gone(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            return any(
                line.startswith("State:") and "Z" in line for line in handle
            )
    except FileNotFoundError:
        return True


class KerasFileTest(TestCase):
    def setUp(self):
        super().setUp()
        self.model_path = os.path.join(self.temp_dir, "mmim.keras")
        test_mmim_model.tiny_model().save(self.model_path)
        self.base = os.path.join(self.temp_dir, "served")

    def export(self, model, *flags):
        stderr = io.StringIO()
        original, sys.stderr = sys.stderr, stderr
        try:
            code = export_main.main([model, "--output", self.base, *flags])
        finally:
            sys.stderr = original
        return code, stderr.getvalue()

    def predict_error(self, model):
        data = tiny_file(self.temp_dir)
        output = os.path.join(self.temp_dir, "preds.csv")
        with self.assertRaises(SystemExit) as context:
            predict.main([model, "--data", data, "--output", output])
        self.assertFalse(os.path.exists(output))
        return str(context.exception)

    def test_read_only_or_full_output_is_one_line(self):
        for fault, pattern in (
            (disk_faults.read_only, r"\((EROFS|EACCES)\)"),
            (disk_faults.full_disk, r"\(ENOSPC\)"),
        ):
            with self.subTest(fault=fault.__name__):
                os.makedirs(self.base, exist_ok=True)
                with fault(self.base):
                    code, err = self.export(self.model_path)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, f"cannot write '.*served.*': .*{pattern}")
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertEqual(disk_faults.leftovers(self.base), [])

    def test_negative_version_is_one_line(self):
        code, err = self.export(self.model_path, "--version", "-1")
        self.assertEqual(code, 2)
        self.assertIn("--version must be a non-negative integer, got -1", err)
        self.assertFalse(os.path.exists(self.base))

    def test_plain_keras_model_is_not_exported(self):
        inputs = keras.Input((3,), name="audio")
        plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        path = os.path.join(self.temp_dir, "plain.keras")
        plain.save(path)
        code, err = self.export(path)
        self.assertEqual(code, 2)
        self.assertRegex(err, r"plain\.keras' holds a 'Functional'.*not an")
        self.assertFalse(os.path.exists(self.base))

    def test_truncated_keras_is_one_error(self):
        path = os.path.join(self.temp_dir, "cut.keras")
        with open(self.model_path, "rb") as source:
            data = source.read()
        with open(path, "wb") as handle:
            handle.write(data[: len(data) // 2])
        code, err = self.export(path)
        self.assertEqual(code, 2)
        self.assertIn("cut.keras' is not a readable .keras archive", err)
        self.assertIn(
            "cut.keras' is not a readable .keras archive",
            self.predict_error(path),
        )

    def test_config_bomb_is_refused_before_inflating(self):
        path = os.path.join(self.temp_dir, "bomb.keras")
        size = input_checks.MAX_CONFIG_BYTES + 1
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("config.json", b" " * size)
            archive.writestr("metadata.json", b"{}")
        self.assertLess(os.path.getsize(path), size // 100)
        code, err = self.export(path)
        self.assertEqual(code, 2)
        self.assertIn(f"config.json inflates to {size} bytes", err)
        self.assertIn("inflates to", self.predict_error(path))


class StagingAndChildTest(TestCase):
    def test_stale_staging_is_cleaned_and_live_kept(self):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        stale = os.path.join(self.temp_dir, f".tmp-3-{dead.pid}-abc")
        live = os.path.join(self.temp_dir, f".tmp-3-{os.getpid()}-def")
        other = os.path.join(self.temp_dir, "1")
        for path in (stale, live, other):
            os.makedirs(os.path.join(path, "variables"))
        staging = process_safety.make_staging(self.temp_dir, 4)
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.isdir(live))
        self.assertTrue(os.path.isdir(other))
        self.assertTrue(
            os.path.basename(staging).startswith(f".tmp-4-{os.getpid()}-")
        )

    def test_export_child_dies_with_its_parent(self):
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, process_safety.__file__],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            child = int(parent.stdout.readline())
            self.assertFalse(_gone(child))
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            parent.stdout.close()
        deadline = time.time() + 10
        while not _gone(child) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(_gone(child), f"child {child} outlived its parent")


class UmaskTest(TestCase):
    def test_outputs_follow_the_umask(self):
        for mask in (0o022, 0o027):
            previous = os.umask(mask)
            try:
                data = tiny_file(self.temp_dir, name=f"u{mask:o}.h5")
                staging = process_safety.make_staging(
                    os.path.join(self.temp_dir, f"s{mask:o}"), 1
                )
            finally:
                os.umask(previous)
            with self.subTest(umask=oct(mask)):
                self.assertEqual(os.stat(data).st_mode & 0o777, 0o666 & ~mask)
                self.assertEqual(
                    os.stat(staging).st_mode & 0o777, 0o777 & ~mask
                )

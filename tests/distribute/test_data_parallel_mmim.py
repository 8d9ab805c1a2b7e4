"""Two replicas give the weights of one replica on the same global batch.

Each test runs `mmim_worker.py` (full MMIM: two stages, CPC, BA bound with
the GMM entropy over the gathered batch and its history memory, global
norm clipping) for two epochs of three global batches of 8, once on one
device and once on two simulated replicas of the backend's own engine,
and compares every variable. The workers run in subprocesses with their
own `KERAS_BACKEND`, whichever backend this pytest pass uses; they are
`large` and run in the torch pass (CI runs `large` there).
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from msakeras.data import synthetic
from msakeras.testing import TestCase

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "mmim_worker.py")
TOLERANCE = 1e-4
# The attention key bias adds q.b to every logit of a query's row, which
# the softmax cancels: its exact gradient is zero and what autodiff returns
# is rounding noise (~1e-9) that depends on the reduction order. Adam with
# torch's epsilon (1e-8, after bias correction) scales that noise to steps
# of +-learning_rate, so one replica and two differ there by design.
GRADIENT_FREE = ("self_attention_layer/key/bias",)


def _environment(backend, **extra):
    environment = dict(os.environ)
    environment.update(
        KERAS_BACKEND=backend,
        PYTHONPATH=ROOT + os.pathsep + environment.get("PYTHONPATH", ""),
        OMP_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    environment.update(extra)
    return environment


def _run(command, environment):
    result = subprocess.run(
        command,
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            + result.stdout[-3000:]
            + result.stderr[-6000:]
        )


@pytest.mark.large
@pytest.mark.requires_backend("torch")
class DataParallelMMIMTest(TestCase):
    def setUp(self):
        super().setUp()
        self.data = synthetic.make_synthetic_dataset(
            os.path.join(self.temp_dir, "tiny.h5"),
            num_train=24,
            num_valid=4,
            num_test=4,
            text_length=6,
            audio_steps=5,
            vision_steps=4,
            audio_dim=3,
            vision_dim=4,
            vocabulary_size=64,
        )

    def _single(self, backend, **extra):
        output = os.path.join(self.temp_dir, "single.npz")
        _run(
            [sys.executable, WORKER, self.data, output, "--replicas", "1"],
            _environment(backend, **extra),
        )
        return output

    def _assert_same_weights(self, single_path, parallel_path):
        single = np.load(single_path)
        parallel = np.load(parallel_path)
        self.assertEqual(sorted(single.files), sorted(parallel.files))
        names = [
            name
            for name in single.files
            if not name.startswith("__") and not name.endswith(GRADIENT_FREE)
        ]
        self.assertGreater(len(names), 50)
        self.assertLess(len(names), len(single.files) - 2)
        for name in names:
            np.testing.assert_allclose(
                parallel[name],
                single[name],
                atol=TOLERANCE,
                rtol=0,
                err_msg=name,
            )
        # Training moved the weights (the comparison is not trivially true).
        self.assertTrue(
            np.all(np.isfinite(single["__loss__"]))
            and single["__loss__"][-1] < single["__loss__"][0]
        )

    def test_tensorflow_mirrored_strategy(self):
        single = self._single("tensorflow")
        parallel = os.path.join(self.temp_dir, "parallel.npz")
        _run(
            [sys.executable, WORKER, self.data, parallel, "--replicas", "2"],
            _environment("tensorflow"),
        )
        self._assert_same_weights(single, parallel)
        # The reported loss is the global batch's on TensorFlow.
        np.testing.assert_allclose(
            np.load(parallel)["__loss__"],
            np.load(single)["__loss__"],
            atol=1e-4,
        )

    def test_torch_ddp_two_processes_gloo(self):
        single = self._single("torch")
        parallel = os.path.join(self.temp_dir, "parallel.npz")
        _run(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc-per-node=2",
                WORKER,
                self.data,
                parallel,
                "--replicas",
                "2",
            ],
            _environment("torch"),
        )
        self._assert_same_weights(single, parallel)

    def test_jax_data_parallel_two_host_devices(self):
        if importlib.util.find_spec("jax") is None:
            self.skipTest("jax is not installed (pip install -e '.[jax]')")
        flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
        single = self._single("jax", **flags)
        parallel = os.path.join(self.temp_dir, "parallel.npz")
        _run(
            [sys.executable, WORKER, self.data, parallel, "--replicas", "2"],
            _environment("jax", **flags),
        )
        self._assert_same_weights(single, parallel)

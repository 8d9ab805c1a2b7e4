"""The global RNG states a resume backup carries (`global_rng_state`)."""

import io
import random
import unittest
import warnings

import keras
import numpy as np

from msakeras.backend import global_rng_state


def _through_npz(state):
    """What `ResumableBackup` does with the states: `np.savez`, `np.load`."""
    buffer = io.BytesIO()
    np.savez(buffer, **{f"rng/{name}": value for name, value in state.items()})
    buffer.seek(0)
    with np.load(buffer) as loaded:
        return {name[len("rng/") :]: loaded[name] for name in loaded.files}


class GlobalRngStateTest(unittest.TestCase):
    def test_python_and_numpy_states_round_trip(self):
        random.seed(3)
        np.random.seed(4)
        saved = _through_npz(global_rng_state.get_global_rng_state())
        expected = (random.random(), np.random.standard_normal(3))
        random.seed(99)
        np.random.seed(99)
        global_rng_state.set_global_rng_state(saved)
        self.assertEqual(random.random(), expected[0])
        np.testing.assert_array_equal(np.random.standard_normal(3), expected[1])


@unittest.skipUnless(keras.config.backend() == "torch", "torch generators")
class TorchRngStateTest(unittest.TestCase):
    def test_cpu_generator_round_trips_through_the_backup(self):
        import torch

        torch.manual_seed(7)
        torch.rand(5)
        saved = _through_npz(global_rng_state.get_global_rng_state())
        expected = torch.rand(4)
        torch.manual_seed(123)
        global_rng_state.set_global_rng_state(saved)
        torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)

    def _stub_cuda(self, monkeypatch_state, count=2):
        """A stand-in for `torch.cuda` with `count` devices (CPU tensors)."""
        import torch

        cuda = torch.cuda
        originals = {
            name: getattr(cuda, name)
            for name in (
                "is_available",
                "is_initialized",
                "device_count",
                "get_rng_state_all",
                "set_rng_state_all",
            )
        }
        self.addCleanup(
            lambda: [setattr(cuda, k, v) for k, v in originals.items()]
        )
        cuda.is_available = lambda: True
        cuda.is_initialized = lambda: True
        cuda.device_count = lambda: count
        cuda.get_rng_state_all = lambda: [
            torch.from_numpy(row.copy()) for row in monkeypatch_state["now"]
        ]

        def set_all(states):
            monkeypatch_state["now"] = [s.numpy().copy() for s in states]

        cuda.set_rng_state_all = set_all

    def test_cuda_generator_states_are_saved_and_restored(self):
        generator = np.random.default_rng(0)
        first = [generator.integers(0, 256, 16, dtype=np.uint8) for _ in "ab"]
        devices = {"now": first}
        self._stub_cuda(devices)
        saved = _through_npz(global_rng_state.get_global_rng_state())
        self.assertEqual(saved["torch_cuda"].shape, (2, 16))
        devices["now"] = [np.zeros(16, np.uint8), np.ones(16, np.uint8)]
        global_rng_state.set_global_rng_state(saved)
        for restored, original in zip(devices["now"], first):
            np.testing.assert_array_equal(restored, original)

    def test_other_gpu_count_restores_nothing_and_warns(self):
        devices = {"now": [np.full(16, 5, np.uint8)]}
        self._stub_cuda(devices, count=1)
        saved = {"torch_cuda": np.zeros((2, 16), np.uint8)}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            global_rng_state.set_global_rng_state(saved)
        self.assertTrue(any("2 GPU(s) but 1" in str(w.message) for w in caught))
        np.testing.assert_array_equal(devices["now"][0], np.full(16, 5))

    def test_no_cuda_state_without_initialised_cuda(self):
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            self.skipTest("CUDA is initialised here")
        self.assertNotIn("torch_cuda", global_rng_state.get_global_rng_state())

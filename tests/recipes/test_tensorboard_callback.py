"""The recipes' TensorBoard logs need TensorFlow; without it they are skipped.

Keras writes TensorBoard summaries through `tf.summary` under every backend.
A torch- or JAX-only environment (such as a GPU image without TensorFlow)
must still train: `run_callbacks.tensorboard_callback` then returns no callback.
"""

import importlib.util
import tempfile
from unittest import mock

import keras

from msakeras.experiment import run_callbacks
from msakeras.testing import test_case

REAL_FIND_SPEC = importlib.util.find_spec


def find_spec_with_tensorflow(present):
    def find_spec(name, *args, **kwargs):
        if name == "tensorflow":
            return REAL_FIND_SPEC("json") if present else None
        return REAL_FIND_SPEC(name, *args, **kwargs)

    return find_spec


class TensorBoardCallbackTest(test_case.TestCase):
    def test_tensorboard_with_tensorflow(self):
        directory = tempfile.mkdtemp()
        with mock.patch.object(
            importlib.util, "find_spec", find_spec_with_tensorflow(True)
        ):
            (callback,) = run_callbacks.tensorboard_callback(directory)
        self.assertIsInstance(callback, keras.callbacks.TensorBoard)
        self.assertTrue(callback.log_dir.startswith(directory))

    def test_skipped_without_tensorflow(self):
        with mock.patch.object(
            importlib.util, "find_spec", find_spec_with_tensorflow(False)
        ):
            self.assertEqual(
                run_callbacks.tensorboard_callback(tempfile.mkdtemp()), []
            )

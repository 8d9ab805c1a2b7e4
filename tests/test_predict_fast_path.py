"""`msakeras.predict`'s fast path: compiled predict equals eager, no optimizer
state, and no TensorFlow in a torch-backend predict process."""

import csv
import os

import numpy as np

from msakeras import predict
from msakeras.testing import TestCase
from tests.backend import test_tensorflow_guard
from tests.models.mmim import test_mmim_model
from tests.test_predict import tiny_file


def read_predictions(path):
    with open(path, newline="") as handle:
        return np.array(
            [float(row["prediction"]) for row in csv.DictReader(handle)]
        )


class PredictFastPathTest(TestCase):
    def setUp(self):
        super().setUp()
        model = test_mmim_model.tiny_model()
        model.compile(optimizer="adam")
        self.model_path = os.path.join(self.temp_dir, "mmim.keras")
        model.save(self.model_path)  # with optimizer variables
        self.data = tiny_file(self.temp_dir)  # 11 test samples

    def predict(self, compile, batch_size):
        output = os.path.join(
            self.temp_dir, f"preds_{compile}_{batch_size}.csv"
        )
        predict.predict_file(
            self.model_path,
            self.data,
            "test",
            output,
            batch_size=batch_size,
            verbose=0,
            compile=compile,
        )
        return read_predictions(output)

    def test_compiled_predict_equals_eager(self):
        eager = self.predict("off", batch_size=4)
        # 11 samples in batches of 4: the compiled path pads the last batch
        # of 3 to 4 rows and must drop the padding again.
        compiled = self.predict("on", batch_size=4)
        self.assertEqual(compiled.shape, (11,))
        self.assertAllClose(compiled, eager, atol=1e-5, rtol=1e-5)
        # The batch size changes nothing but speed.
        self.assertAllClose(
            self.predict("auto", batch_size=256), eager, atol=1e-5, rtol=1e-5
        )

    def test_no_optimizer_state_loaded(self):
        predictor = predict.load_predictor(self.model_path)
        self.assertIsNone(getattr(predictor.model, "optimizer", None))
        self.assertFalse(predictor.model.compiled)

    def test_resolve_jit_compile(self):
        self.assertTrue(predict.resolve_jit_compile("on", "torch"))
        self.assertFalse(predict.resolve_jit_compile("off", "jax"))
        self.assertTrue(predict.resolve_jit_compile("auto", "jax"))
        self.assertFalse(predict.resolve_jit_compile("auto", "torch"))
        self.assertFalse(predict.resolve_jit_compile("auto", "tensorflow"))
        with self.assertRaisesRegex(ValueError, "--compile"):
            predict.resolve_jit_compile("fast")


class PredictKeepsTensorFlowOutTest(TestCase):
    """`python -m msakeras.predict` under torch: TensorFlow is not loaded
    (keras-hub would import it: about 0.6 GB resident)."""

    def run_predict(self, **environment):
        model = test_mmim_model.tiny_model()
        model_path = os.path.join(self.temp_dir, "mmim.keras")
        model.save(model_path)
        data = tiny_file(self.temp_dir)
        result = test_tensorflow_guard.run_python(
            [
                "-X",
                "importtime",
                "-m",
                "msakeras.predict",
                model_path,
                "--data",
                data,
                "--output",
                os.path.join(self.temp_dir, "preds.csv"),
                "--verbose",
                "0",
            ],
            "torch",
            **environment,
        )
        self.assertIn("wrote 11 predictions", result.stdout)
        # `-X importtime` lists every module loaded; TensorFlow's body
        # lives in `tensorflow.python`.
        return "tensorflow.python" in result.stderr

    def test_torch_predict_does_not_import_tensorflow(self):
        self.assertFalse(self.run_predict())

    def test_explicit_opt_out_imports_it(self):
        # Control: the same check sees TensorFlow when the guard is off.
        self.assertTrue(self.run_predict(MSAKERAS_KEEP_TENSORFLOW_OUT="0"))

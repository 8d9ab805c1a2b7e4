"""Same weights, same batch: TensorFlow, torch and JAX agree within 1e-5.

One pytest process (under torch; the test launches the others) runs
`equivalence_worker.py` under each backend in a subprocess. Every model in
`equivalence_worker.MODELS` is built with dropout off and its trainable
weights set from one NumPy source keyed by variable path; each worker
writes predictions, the total loss and each tracked loss term, the
gradients of the total loss (the backend's own autodiff), the
non-trainable state and the outputs of the training pass. MCER's
bottleneck noise comes from NumPy on every backend (the worker's
`NumpyNoise` through `VariationalBottleneck.noise_source`);
`test_bottleneck_noise_is_the_numpy_noise` checks that it is, and that it
moves the compared numbers by far more than the tolerance. The torch worker
also trains one step with `fit` and saves a `.keras` file; the TensorFlow
and JAX workers load it and must give the same `predict` outputs and the
same optimizer state.

Agreement is relative to each tensor's scale: `max|a - b| <= 1e-5 * max|b|`
(an elementwise `rtol` is meaningless for entries that cancel to ~0). For
gradients the bound adds a floor of 1e-7 times the model's largest gradient
entry: gradients that are zero in exact arithmetic (attention key biases,
branches cut by `stop_gradient`) come out as float32 noise of ~1e-9 whose
relative difference means nothing, and a tensor whose gradient is 1e-4 of
the largest carries the rounding of the sums it shares with it.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from msakeras.testing import TestCase
from tests.equivalence import equivalence_worker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
WORKER = os.path.join(os.path.dirname(__file__), "equivalence_worker.py")
BACKENDS = ("torch", "tensorflow", "jax")
RELATIVE = 1e-5
GRADIENT_FLOOR = 1e-7


def run_worker(backend, out, *arguments):
    environment = dict(
        os.environ,
        KERAS_BACKEND=backend,
        OMP_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=os.pathsep.join(
            [ROOT, *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    result = subprocess.run(
        [sys.executable, WORKER, "--out", out, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=900,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"equivalence worker failed under {backend} "
            f"({result.returncode}):\n{result.stderr[-4000:]}"
        )


def load(path):
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.mark.large
@pytest.mark.requires_backend("torch")
class CrossBackendEquivalenceTest(TestCase):
    @classmethod
    def setUpClass(cls):
        if importlib.util.find_spec("jax") is None:
            raise AssertionError(
                "the cross-backend test needs JAX: pip install 'jax[cpu]'"
            )
        cls.directory = tempfile.TemporaryDirectory()
        cls.out = {}
        for backend in BACKENDS:
            cls.out[backend] = os.path.join(cls.directory.name, backend)
            os.makedirs(cls.out[backend])
        run_worker("torch", cls.out["torch"], "--save")
        for backend in ("tensorflow", "jax"):
            run_worker(backend, cls.out[backend], "--load", cls.out["torch"])

    @classmethod
    def tearDownClass(cls):
        cls.directory.cleanup()

    def records(self, model, suffix=""):
        return {
            backend: load(
                os.path.join(self.out[backend], f"{model}{suffix}.npz")
            )
            for backend in BACKENDS
        }

    def assertScaledClose(self, actual, desired, message, floor=0.0):
        actual = np.asarray(actual, "float64")
        desired = np.asarray(desired, "float64")
        self.assertEqual(actual.shape, desired.shape, message)
        scale = max(float(np.max(np.abs(desired), initial=0.0)), 1e-12)
        error = float(np.max(np.abs(actual - desired), initial=0.0))
        self.assertLessEqual(
            error,
            RELATIVE * scale + floor,
            f"{message}: max |difference| {error:.3g}, scale {scale:.3g}",
        )

    def compare(self, prefix):
        for model in equivalence_worker.MODELS:
            records = self.records(model)
            reference = {
                key: value
                for key, value in records["torch"].items()
                if key.startswith(prefix)
            }
            self.assertNotEmpty(reference, f"{model}: no {prefix} records")
            for backend in ("tensorflow", "jax"):
                other = {
                    key: value
                    for key, value in records[backend].items()
                    if key.startswith(prefix)
                }
                self.assertEqual(sorted(other), sorted(reference), backend)
                floor = 0.0
                if prefix == "gradient/":
                    floor = GRADIENT_FLOOR * max(
                        np.abs(value).max() for value in reference.values()
                    )
                for key, value in reference.items():
                    self.assertScaledClose(
                        other[key], value, f"{model} {backend} {key}", floor
                    )

    def test_predictions_agree(self):
        self.compare("prediction/")

    def test_loss_terms_agree(self):
        self.compare("loss/")
        for model in equivalence_worker.MODELS:
            terms = [
                key for key in self.records(model)["torch"] if "loss/" in key
            ]
            # the total and at least two of the model's own terms
            self.assertGreater(len(terms), 2, f"{model}: {terms}")
        # MCER: the entropy term reads the memory the warm-up pass filled,
        # and the compared pass generated unimodal / cross-modal labels
        # (compared in `state/`) that differ from y_m.
        mcer = self.records("mcer")["torch"]
        for term in ("entropy", "lld", "discriminator_loss"):
            self.assertGreater(abs(float(mcer[f"loss/{term}"])), 1e-3, term)
        for state in ("slgm_state/labels_text", "clgm_state/labels_cross_text"):
            generated = mcer[f"state/{state}"]
            labels = mcer[f"state/{state.split('/')[0]}/labels_fusion"]
            self.assertGreater(np.abs(generated - labels).max(), 1e-2, state)

    def test_training_predictions_agree(self):
        self.compare("training_prediction/")

    def test_bottleneck_noise_is_the_numpy_noise(self):
        worker = equivalence_worker
        records = self.records("mcer")
        for backend in BACKENDS:
            record = records[backend]
            # The model's training passes drew one NumPy sample per
            # bottleneck and pass, shaped (batch, latent width).
            draws = sorted(key for key in record if key.startswith("noise/"))
            layers = {key.split("/")[1] for key in draws}
            expected_layers = {
                f"{key}_bottleneck"
                for key in ("fusion", "text", "audio", "vision")
            }
            self.assertEqual(layers, expected_layers, backend)
            passes = worker.WARM_UP_PASSES + 1
            for layer in layers:
                rng = np.random.RandomState(worker.noise_seed(layer))
                for index in range(passes):
                    drawn = record[f"noise/{layer}/{index}"]
                    self.assertEqual(drawn.shape[0], worker.BATCH_SIZE)
                    np.testing.assert_array_equal(
                        drawn,
                        rng.normal(size=drawn.shape).astype("float32"),
                        f"{backend} {layer} draw {index}",
                    )
                self.assertNotIn(f"noise/{layer}/{passes}", record)
            # One bottleneck of the model, alone in training: the sample is
            # z = μ + σ ε with this test's NumPy ε (μ, σ recomputed here).
            name = str(record["noise_check/layer"])
            inputs = record["noise_check/inputs"].astype("float64")

            def dense(layer, values, record=record):
                kernel = record[f"noise_check/{layer}/kernel"]
                bias = record[f"noise_check/{layer}/bias"]
                return values @ kernel + bias

            hidden = np.maximum(dense("hidden_dense", inputs), 0.0)
            mean = dense("mean_dense", hidden)
            shift = record["noise_check/sigma_shift"]
            scale = np.log1p(np.exp(dense("scale_dense", hidden) - shift))
            noise = np.random.RandomState(
                worker.noise_seed(f"check/{name}")
            ).normal(size=mean.shape)
            self.assertScaledClose(
                record["noise_check/mean"], mean, f"{backend} {name} mean"
            )
            self.assertScaledClose(
                record["noise_check/sample"],
                mean + scale * noise,
                f"{backend} {name} sample",
            )
            # ... and the noise term is far above the comparison tolerance.
            self.assertGreater(
                np.abs(scale * noise).max(),
                1000 * RELATIVE * np.abs(mean).max(),
                backend,
            )
            # With dropout off, the noise is the only difference between the
            # training and inference outputs of the sentiment head.
            moved = np.abs(
                record["training_prediction/sentiment"]
                - record["prediction/sentiment"]
            ).max()
            self.assertGreater(
                moved,
                100 * RELATIVE * np.abs(record["prediction/sentiment"]).max(),
                backend,
            )

    def test_gradients_agree(self):
        self.compare("gradient/")

    def test_state_agrees(self):
        self.compare("state/")

    def test_torch_keras_file_loads_under_tensorflow_and_jax(self):
        for model in equivalence_worker.MODELS:
            saved = load(os.path.join(self.out["torch"], f"{model}_saved.npz"))
            optimizer_keys = [k for k in saved if k.startswith("optimizer/")]
            self.assertGreater(len(optimizer_keys), 2, model)
            for backend in ("tensorflow", "jax"):
                loaded = load(
                    os.path.join(self.out[backend], f"{model}_loaded.npz")
                )
                self.assertEqual(sorted(loaded), sorted(saved), backend)
                for key, value in saved.items():
                    self.assertScaledClose(
                        loaded[key], value, f"{model} {backend} {key}"
                    )

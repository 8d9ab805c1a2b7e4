import numpy as np
from keras import ops

from msakeras.layers.bottleneck import VariationalBottleneck
from msakeras.testing import TestCase


def numpy_heads(layer, inputs):
    """μ and σ from the layer's weights (MIB `cmib.py`)."""
    weights = {
        w.path.split("/")[-2] + "/" + w.name: ops.convert_to_numpy(w)
        for w in layer.weights
    }
    hidden = np.maximum(
        inputs @ weights["hidden_dense/kernel"] + weights["hidden_dense/bias"],
        0.0,
    )
    mean = hidden @ weights["mean_dense/kernel"] + weights["mean_dense/bias"]
    raw = hidden @ weights["scale_dense/kernel"] + weights["scale_dense/bias"]
    scale = np.log1p(np.exp(raw - layer.sigma_shift))
    return mean, scale


class VariationalBottleneckTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(4, 6)).astype("float32")
        self.init_kwargs = {"latent_dim": 3, "hidden_dim": 5, "kl_weight": 1.9}

    def test_layer_basics(self):
        self.run_layer_test(
            VariationalBottleneck,
            self.init_kwargs,
            {"inputs": self.inputs},
            expected_output_shape=(4, 3),
            expected_num_trainable_weights=6,
            expected_num_non_trainable_weights=0,
            expected_num_losses=1,
        )

    def test_kl_matches_numpy_in_training_only(self):
        layer = VariationalBottleneck(**self.init_kwargs, seed=3)
        layer(self.inputs, training=True)
        mean, scale = numpy_heads(layer, self.inputs)
        expected = 0.5 * np.mean(mean**2 + scale**2 - 2 * np.log(scale) - 1)
        self.assertLen(layer.losses, 1)
        self.assertAllClose(layer.losses[0], 1.9 * expected, rtol=1e-5)
        layer(self.inputs, training=False)
        self.assertEmpty(layer.losses)

    def test_inference_returns_mean_and_training_samples(self):
        layer = VariationalBottleneck(3, hidden_dim=5, sigma_shift=-2.0, seed=1)
        inference = layer(self.inputs, training=False)
        mean, scale = numpy_heads(layer, self.inputs)
        self.assertAllClose(inference, mean, atol=1e-5)
        first = ops.convert_to_numpy(layer(self.inputs, training=True))
        second = ops.convert_to_numpy(layer(self.inputs, training=True))
        # Noise scaled by σ (about 2 here): samples differ from μ and
        # from each other, and stay within a few σ of μ.
        self.assertGreater(np.abs(first - second).max(), 1e-3)
        self.assertLess(np.abs((first - mean) / scale).max(), 8.0)

    def test_sample_at_inference_option(self):
        layer = VariationalBottleneck(
            3, hidden_dim=5, sigma_shift=-2.0, sample_at_inference=True, seed=1
        )
        first = ops.convert_to_numpy(layer(self.inputs, training=False))
        second = ops.convert_to_numpy(layer(self.inputs, training=False))
        self.assertGreater(np.abs(first - second).max(), 1e-3)
        self.assertEmpty(layer.losses)

    def test_noise_source_supplies_the_reparameterisation_noise(self):
        layer = VariationalBottleneck(3, hidden_dim=5, sigma_shift=-2.0, seed=1)
        calls = []

        def noise_source(shape, dtype):
            calls.append((shape, dtype))
            return np.random.RandomState(7).normal(size=shape).astype(dtype)

        layer.noise_source = noise_source
        sample = layer(self.inputs, training=True)
        mean, scale = numpy_heads(layer, self.inputs)
        noise = np.random.RandomState(7).normal(size=(4, 3))
        self.assertEqual(calls, [((4, 3), "float32")])
        self.assertAllClose(sample, mean + scale * noise, atol=1e-5)
        self.assertAllClose(layer(self.inputs, training=False), mean, atol=1e-5)
        self.assertLen(calls, 1)  # inference draws nothing
        layer.noise_source = None  # back to the seed generator
        self.assertGreater(
            np.abs(
                ops.convert_to_numpy(layer(self.inputs, training=True))
                - (mean + scale * noise)
            ).max(),
            1e-3,
        )

    def test_rejects_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "latent_dim"):
            VariationalBottleneck(0)
        with self.assertRaisesRegex(ValueError, "kl_weight"):
            VariationalBottleneck(2, kl_weight=-1.0)

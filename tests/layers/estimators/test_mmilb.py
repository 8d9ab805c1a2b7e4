import math

import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.layers.estimators import MMILB
from msakeras.testing import TestCase


def _dense(x, layer, activation=None):
    kernel, bias = (ops.convert_to_numpy(w) for w in layer.weights)
    y = x @ kernel + bias
    if activation == "relu":
        y = np.maximum(y, 0.0)
    elif activation == "tanh":
        y = np.tanh(y)
    return y


class MMILBTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.input_data = {
            "x": rng.normal(size=(3, 6)).astype("float32"),
            "y": rng.normal(size=(3, 8)).astype("float32"),
        }

    def test_layer_basics(self):
        self.run_layer_test(
            MMILB,
            {},
            self.input_data,
            expected_output_shape={
                "log_likelihood": (3,),
                "entropy_projection": (3, 2),
            },
            # P (kernel, bias) is frozen: official P never leaves its init.
            expected_num_trainable_weights=8,
            expected_num_non_trainable_weights=2,
        )

    def test_options(self):
        layer = MMILB(
            hidden_dim=5,
            entropy_projection_dim=3,
            full_gaussian_nll=True,
            kernel_initializer="glorot_uniform",
        )
        outputs = layer(**self.input_data)
        self.assertEqual(tuple(outputs["entropy_projection"].shape), (3, 3))
        self.assertEqual(tuple(layer.mean_hidden.kernel.shape), (6, 5))
        self.assertEqual(tuple(layer.log_variance_output.kernel.shape), (5, 8))
        self.run_serialization_test(layer)

    def test_entropy_projection_frozen_unless_asked(self):
        layer = MMILB()
        layer(**self.input_data)
        frozen = {weight.path for weight in layer.non_trainable_weights}
        self.assertEqual(
            frozen,
            {
                "mmilb/entropy_projection/kernel",
                "mmilb/entropy_projection/bias",
            },
        )
        trained = MMILB(train_entropy_projection=True)
        trained(**self.input_data)
        self.assertEmpty(trained.non_trainable_weights)
        self.assertLen(trained.trainable_weights, 10)
        revived = MMILB.from_config(trained.get_config())
        self.assertTrue(revived.train_entropy_projection)

    def test_narrow_y_needs_projection_dim(self):
        with self.assertRaisesRegex(ValueError, "entropy_projection_dim"):
            MMILB()(self.input_data["x"], self.input_data["y"][:, :3])

    def test_variable_paths(self):
        layer = MMILB(name="mmilb_text_vision")
        layer(**self.input_data)
        paths = sorted(weight.path for weight in layer.weights)
        self.assertIn("mmilb_text_vision/mean_hidden/kernel", paths)
        self.assertIn("mmilb_text_vision/entropy_projection/bias", paths)

    @parameterized.named_parameters(("code_form", False), ("full", True))
    def test_matches_numpy(self, full_gaussian_nll):
        layer = MMILB(full_gaussian_nll=full_gaussian_nll)
        outputs = layer(**self.input_data)
        x, y = self.input_data["x"], self.input_data["y"]
        mean = _dense(_dense(x, layer.mean_hidden, "relu"), layer.mean_output)
        log_variance = _dense(
            _dense(x, layer.log_variance_hidden, "relu"),
            layer.log_variance_output,
        )
        terms = -((mean - y) ** 2) / (2.0 * np.exp(log_variance))
        if full_gaussian_nll:
            terms = terms - 0.5 * log_variance - 0.5 * math.log(2 * math.pi)
        self.assertAllClose(
            outputs["log_likelihood"], terms.sum(-1), atol=1e-5, rtol=1e-5
        )
        self.assertAllClose(
            outputs["entropy_projection"],
            _dense(y, layer.entropy_projection, "tanh"),
            atol=1e-5,
        )

import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.layers.estimators import CPCPredictor
from msakeras.testing import TestCase


class CPCPredictorTest(TestCase):
    def setUp(self):
        super().setUp()
        self.input_data = {
            "fused": np.random.default_rng(0)
            .normal(size=(3, 4))
            .astype("float32"),
        }

    @parameterized.named_parameters(("one_layer", 1), ("three_layers", 3))
    def test_layer_basics(self, num_layers):
        self.run_layer_test(
            CPCPredictor,
            {"output_dim": 5, "num_layers": num_layers},
            self.input_data,
            expected_output_shape=(3, 5),
            expected_num_trainable_weights=2 * num_layers,
        )

    def test_matches_numpy(self):
        layer = CPCPredictor(output_dim=5, num_layers=2)
        outputs = layer(**self.input_data)
        (k0, b0), (k1, b1) = (
            [ops.convert_to_numpy(w) for w in sub.weights]
            for sub in layer.prediction_layers
        )
        # Official CPC: Tanh after the first layer only.
        expected = np.tanh(self.input_data["fused"] @ k0 + b0) @ k1 + b1
        self.assertAllClose(outputs, expected, atol=1e-5)

    def test_single_layer_is_linear(self):
        layer = CPCPredictor(output_dim=5, name="cpc_text")
        outputs = layer(**self.input_data)
        kernel, bias = (ops.convert_to_numpy(w) for w in layer.weights)
        self.assertAllClose(
            outputs, self.input_data["fused"] @ kernel + bias, atol=1e-5
        )
        self.assertEqual(layer.weights[0].path, "cpc_text/prediction_0/kernel")

    def test_invalid_num_layers(self):
        with self.assertRaisesRegex(ValueError, "num_layers"):
            CPCPredictor(output_dim=5, num_layers=0)

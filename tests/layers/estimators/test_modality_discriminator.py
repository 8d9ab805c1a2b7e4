import numpy as np
from keras import ops

from msakeras.layers.estimators import ModalityDiscriminator
from msakeras.testing import TestCase


class ModalityDiscriminatorTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.input_data = {
            "first": rng.normal(size=(3, 4)).astype("float32"),
            "second": rng.normal(size=(3, 4)).astype("float32"),
        }

    def test_layer_basics(self):
        self.run_layer_test(
            ModalityDiscriminator,
            {},
            self.input_data,
            expected_output_shape=(3, 2),
            expected_num_trainable_weights=4,
            expected_num_non_trainable_weights=0,
        )

    def test_matches_numpy_mlp(self):
        layer = ModalityDiscriminator(hidden_dim=5)
        logits = layer(**self.input_data)
        k1, b1, k2, b2 = (
            ops.convert_to_numpy(w)
            for w in (
                layer.hidden_dense.kernel,
                layer.hidden_dense.bias,
                layer.output_dense.kernel,
                layer.output_dense.bias,
            )
        )
        self.assertEqual(k1.shape, (4, 5))

        def mlp(x):
            return (np.maximum(x @ k1 + b1, 0.0) @ k2 + b2)[:, 0]

        expected = np.stack(
            [mlp(self.input_data["first"]), mlp(self.input_data["second"])], -1
        )
        self.assertAllClose(logits, expected, atol=1e-5)

    def test_rejects_mismatched_widths(self):
        with self.assertRaisesRegex(ValueError, "same known width"):
            ModalityDiscriminator()(np.ones((2, 3)), np.ones((2, 4)))

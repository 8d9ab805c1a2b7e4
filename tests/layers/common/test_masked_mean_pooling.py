import numpy as np

from msakeras.layers.common import masked_mean_pooling
from msakeras.testing import test_case


class MaskedMeanPoolingTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(3, 5, 4)).astype("float32")
        self.mask = np.array(
            [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], "int32"
        )

    def test_layer_basics(self):
        self.run_layer_test(
            masked_mean_pooling.MaskedMeanPooling,
            init_kwargs={},
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(3, 4),
            expected_num_trainable_weights=0,
        )

    def test_matches_numpy(self):
        layer = masked_mean_pooling.MaskedMeanPooling()
        expected = np.stack(
            [
                self.inputs[0, :3].mean(0),
                self.inputs[1].mean(0),
                np.zeros(4, "float32"),  # all padded: zeros, not NaN
            ]
        )
        output = layer(self.inputs, mask=self.mask)
        self.assertAllFinite(output)
        self.assertAllClose(output, expected, atol=1e-6)
        self.assertAllClose(layer(self.inputs), self.inputs.mean(1))

    def test_padding_is_ignored(self):
        layer = masked_mean_pooling.MaskedMeanPooling()
        noisy = self.inputs + 100.0 * (1 - self.mask[:, :, None])
        self.assertAllClose(
            layer(self.inputs, mask=self.mask),
            layer(noisy, mask=self.mask.astype(bool)),
            atol=1e-5,
        )

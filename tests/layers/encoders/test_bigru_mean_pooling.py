import numpy as np
from keras import ops

from msakeras.layers.encoders import BiGRUMeanPooling
from msakeras.testing import TestCase
from tests.layers.encoders import rnn_reference


class BiGRUMeanPoolingTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 5, 3)).astype("float32")
        self.mask = np.array([[1, 1, 1, 0, 0], [1] * 5], "int32")

    def test_layer_basics(self):
        self.run_layer_test(
            BiGRUMeanPooling,
            {"units": 4},
            {"inputs": self.inputs},
            expected_output_shape=(2, 4),
            expected_num_trainable_weights=6,
            expected_num_non_trainable_weights=0,
        )

    def test_matches_numpy_packed_bigru(self):
        layer = BiGRUMeanPooling(4)
        output = layer(self.inputs, mask=self.mask)
        weights = rnn_reference.weights_by_name(layer)

        def gru_weights(direction):
            return (
                weights[f"{direction}_gru/gru_cell/kernel"],
                weights[f"{direction}_gru/gru_cell/recurrent_kernel"],
                weights[f"{direction}_gru/gru_cell/bias"],
            )

        expected = []
        for row, length in zip(self.inputs, self.mask.sum(-1)):
            valid = row[:length]
            forward = rnn_reference.numpy_gru(valid, *gru_weights("forward"))
            backward = rnn_reference.numpy_gru(
                valid[::-1], *gru_weights("backward")
            )
            expected.append(0.5 * (forward.mean(0) + backward.mean(0)))
        self.assertAllClose(output, np.stack(expected), atol=1e-5)

    def test_masked_steps_never_change_outputs(self):
        layer = BiGRUMeanPooling(4)
        noisy = self.inputs.copy()
        noisy[0, 3:] = 1e3
        self.assertAllClose(
            layer(noisy, mask=self.mask),
            ops.convert_to_numpy(layer(self.inputs, mask=self.mask)),
            atol=1e-5,
        )

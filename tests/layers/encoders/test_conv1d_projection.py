import numpy as np
from absl.testing import parameterized

from msakeras.layers.encoders import conv1d_projection
from msakeras.testing import test_case


def numpy_conv1d(inputs, kernel, padding):
    """Cross-correlation over time (Keras Conv1D, no bias)."""
    kernel_size = kernel.shape[0]
    if padding == "same":
        left = (kernel_size - 1) // 2
        right = kernel_size - 1 - left
        inputs = np.pad(inputs, [(0, 0), (left, right), (0, 0)])
    steps = inputs.shape[1] - kernel_size + 1
    return np.stack(
        [
            np.einsum("bkf,kfo->bo", inputs[:, t : t + kernel_size], kernel)
            for t in range(steps)
        ],
        axis=1,
    )


class Conv1DProjectionTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 6, 3)).astype("float32")
        self.mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")

    @parameterized.named_parameters(
        ("same", "same", (2, 6, 4)), ("valid", "valid", (2, 4, 4))
    )
    def test_layer_basics(self, padding, shape):
        self.run_layer_test(
            conv1d_projection.Conv1DProjection,
            init_kwargs={"hidden_dim": 4, "kernel_size": 3, "padding": padding},
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=shape,
            expected_num_trainable_weights=1,
        )

    @parameterized.named_parameters(("same", "same"), ("valid", "valid"))
    def test_matches_numpy(self, padding):
        layer = conv1d_projection.Conv1DProjection(
            4, kernel_size=3, padding=padding
        )
        output = layer(self.inputs, mask=self.mask)
        kernel = layer.weights[0].numpy()
        expected = numpy_conv1d(
            self.inputs * self.mask[:, :, None], kernel, padding
        )
        output_mask = self.mask if padding == "same" else self.mask[:, 2:]
        expected = expected * output_mask[:, :, None]
        self.assertAllClose(output, expected, atol=1e-5)
        self.assertAllClose(
            layer(self.inputs),
            numpy_conv1d(self.inputs, kernel, padding),
            atol=1e-5,
        )

    def test_padding_is_ignored(self):
        layer = conv1d_projection.Conv1DProjection(4, kernel_size=3)
        noisy = self.inputs + 100.0 * (1 - self.mask[:, :, None])
        self.assertAllClose(
            layer(self.inputs, mask=self.mask),
            layer(noisy, mask=self.mask),
            atol=1e-5,
        )

    def test_bad_config(self):
        cls = conv1d_projection.Conv1DProjection
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            cls(0)
        with self.assertRaisesRegex(ValueError, "kernel_size"):
            cls(4, kernel_size=0)
        with self.assertRaisesRegex(ValueError, "padding"):
            cls(4, padding="causal")

import numpy as np
from absl.testing import parameterized

from msakeras.layers.encoders import masked_lstm_encoder
from msakeras.testing import test_case
from tests.layers.encoders import rnn_reference


class MaskedLSTMEncoderTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(3, 5, 4)).astype("float32")
        self.mask = np.array(
            [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], "int32"
        )
        self.init_kwargs = {"hidden_dim": 3, "output_dim": 2}

    @parameterized.named_parameters(
        ("unidirectional", False, 1, 5),
        ("bidirectional", True, 1, 8),
        ("bidirectional_two_layers", True, 2, 14),
    )
    def test_layer_basics(self, bidirectional, num_layers, num_weights):
        self.run_layer_test(
            masked_lstm_encoder.MaskedLSTMEncoder,
            init_kwargs={
                **self.init_kwargs,
                "bidirectional": bidirectional,
                "num_layers": num_layers,
                "dropout": 0.1,
            },
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(3, 2),
            expected_num_trainable_weights=num_weights,
        )

    @parameterized.named_parameters(
        ("unidirectional", False), ("bidirectional", True)
    )
    def test_matches_numpy(self, bidirectional):
        layer = masked_lstm_encoder.MaskedLSTMEncoder(
            **self.init_kwargs, bidirectional=bidirectional
        )
        output = layer(self.inputs, mask=self.mask)
        weights = rnn_reference.weights_by_name(layer)

        def lstm(direction, sequence):
            return rnn_reference.numpy_lstm(
                sequence,
                weights[f"{direction}_lstm_0/lstm_cell/kernel"],
                weights[f"{direction}_lstm_0/lstm_cell/recurrent_kernel"],
                weights[f"{direction}_lstm_0/lstm_cell/bias"],
            )[-1]

        expected = []
        for row, length in zip(self.inputs, self.mask.sum(1)):
            valid = row[:length]
            state = [lstm("forward", valid)]
            if bidirectional:
                state.append(lstm("backward", valid[::-1]))
            state = np.concatenate(state)
            expected.append(
                state @ weights["output_dense/kernel"]
                + weights["output_dense/bias"]
            )
        self.assertAllClose(output, np.stack(expected), atol=1e-5)

    @parameterized.named_parameters(
        ("unidirectional", False, 1),
        ("bidirectional", True, 1),
        ("bidirectional_two_layers", True, 2),
    )
    def test_padding_is_ignored(self, bidirectional, num_layers):
        layer = masked_lstm_encoder.MaskedLSTMEncoder(
            **self.init_kwargs,
            bidirectional=bidirectional,
            num_layers=num_layers,
        )
        noisy = self.inputs + 100.0 * (1 - self.mask[:, :, None])
        reference = layer(self.inputs, mask=self.mask)
        self.assertAllClose(reference, layer(noisy, mask=self.mask), atol=1e-5)
        # A length-k row equals running on its first k frames alone.
        for row, length in enumerate(self.mask.sum(1)):
            alone = layer(
                self.inputs[row : row + 1, :length],
                mask=np.ones((1, length), "int32"),
            )
            self.assertAllClose(alone, reference[row : row + 1], atol=1e-5)

    def test_inference_is_deterministic(self):
        layer = masked_lstm_encoder.MaskedLSTMEncoder(
            **self.init_kwargs, dropout=0.5, bidirectional=True
        )
        self.assertAllClose(
            layer(self.inputs, mask=self.mask, training=False),
            layer(self.inputs, mask=self.mask, training=False),
        )

    def test_kernel_initializer_reaches_every_kernel(self):
        layer = masked_lstm_encoder.MaskedLSTMEncoder(
            **self.init_kwargs, kernel_initializer="zeros", bidirectional=True
        )
        layer(self.inputs, mask=self.mask)
        for name, value in rnn_reference.weights_by_name(layer).items():
            if name.endswith("kernel"):
                self.assertAllClose(value, np.zeros_like(value), msg=name)

    def test_bad_config(self):
        cls = masked_lstm_encoder.MaskedLSTMEncoder
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            cls(hidden_dim=0, output_dim=2)
        with self.assertRaisesRegex(ValueError, "output_dim"):
            cls(hidden_dim=2, output_dim=None)
        with self.assertRaisesRegex(ValueError, "num_layers"):
            cls(hidden_dim=2, output_dim=2, num_layers=0)
        with self.assertRaisesRegex(ValueError, "dropout"):
            cls(hidden_dim=2, output_dim=2, dropout=1.0)

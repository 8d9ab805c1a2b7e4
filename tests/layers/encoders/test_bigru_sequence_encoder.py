import numpy as np

from msakeras.layers.encoders import bigru_sequence_encoder
from msakeras.testing import test_case
from tests.layers.encoders import rnn_reference


class BiGRUSequenceEncoderTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(3, 5, 4)).astype("float32")
        self.mask = np.array(
            [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], "int32"
        )

    def test_layer_basics(self):
        self.run_layer_test(
            bigru_sequence_encoder.BiGRUSequenceEncoder,
            init_kwargs={"hidden_dim": 6},
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape={"sequence": (3, 5, 6), "summary": (3, 6)},
            expected_num_trainable_weights=12,
        )

    def test_matches_numpy(self):
        layer = bigru_sequence_encoder.BiGRUSequenceEncoder(
            hidden_dim=6, recurrent_dim=3
        )
        outputs = layer(self.inputs, mask=self.mask)
        weights = rnn_reference.weights_by_name(layer)

        def gru(direction, sequence):
            return rnn_reference.numpy_gru(
                sequence,
                weights[f"{direction}_gru/gru_cell/kernel"],
                weights[f"{direction}_gru/gru_cell/recurrent_kernel"],
                weights[f"{direction}_gru/gru_cell/bias"],
            )

        sequences, summaries = [], []
        for row, length in zip(self.inputs, self.mask.sum(1)):
            valid = row[:length]
            forward = gru("forward", valid)
            backward = gru("backward", valid[::-1])[::-1]
            sequence = np.zeros((5, 6))
            sequence[:length] = (
                np.concatenate([forward, backward], -1)
                @ weights["sequence_dense/kernel"]
                + weights["sequence_dense/bias"]
            )
            sequences.append(sequence)
            final = np.concatenate([forward[-1], backward[0]])
            dense = (
                final @ weights["summary_dense/kernel"]
                + weights["summary_dense/bias"]
            )
            normed = (dense - dense.mean()) / np.sqrt(dense.var() + 1e-5)
            summaries.append(
                normed * weights["summary_norm/gamma"]
                + weights["summary_norm/beta"]
            )
        self.assertAllClose(outputs["sequence"], np.stack(sequences), atol=1e-5)
        self.assertAllClose(outputs["summary"], np.stack(summaries), atol=1e-4)

    def test_padding_is_ignored(self):
        layer = bigru_sequence_encoder.BiGRUSequenceEncoder(hidden_dim=6)
        noisy = self.inputs + 100.0 * (1 - self.mask[:, :, None])
        self.assertAllClose(
            layer(self.inputs, mask=self.mask),
            layer(noisy, mask=self.mask),
            atol=1e-5,
        )

    def test_bad_config(self):
        cls = bigru_sequence_encoder.BiGRUSequenceEncoder
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            cls(hidden_dim=0)
        with self.assertRaisesRegex(ValueError, "recurrent_dim"):
            cls(hidden_dim=4, recurrent_dim=-1)

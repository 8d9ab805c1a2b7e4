import keras
import numpy as np

from msakeras.layers.common import sequence_ops
from msakeras.testing import test_case


class SequenceOpsTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.inputs = np.arange(24, dtype="float32").reshape(2, 4, 3)
        self.mask = np.array([[1, 1, 1, 0], [0, 0, 0, 0]], "int32")

    def test_lengths_from_mask(self):
        self.assertAllClose(
            sequence_ops.lengths_from_mask(self.mask), np.array([3, 0])
        )
        self.assertAllClose(
            sequence_ops.lengths_from_mask(self.mask.astype(bool)),
            np.array([3, 0]),
        )

    def test_reverse_within_length(self):
        mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], "int32")
        expected = np.zeros_like(self.inputs)
        expected[0, :3] = self.inputs[0, 2::-1]
        expected[1] = self.inputs[1, ::-1]
        reversed_inputs = sequence_ops.reverse_within_length(self.inputs, mask)
        self.assertAllClose(reversed_inputs, expected)
        # Twice gives back the valid steps.
        twice = sequence_ops.reverse_within_length(reversed_inputs, mask)
        self.assertAllClose(twice, self.inputs * mask[:, :, None])
        self.assertAllClose(
            sequence_ops.reverse_within_length(self.inputs),
            self.inputs[:, ::-1],
        )

    def test_reverse_within_length_empty_row_is_zero(self):
        reversed_inputs = sequence_ops.reverse_within_length(
            self.inputs, self.mask
        )
        self.assertAllClose(reversed_inputs[1], np.zeros((4, 3)))

    def test_zero_padded_steps(self):
        self.assertAllClose(
            sequence_ops.zero_padded_steps(self.inputs, self.mask),
            self.inputs * self.mask[:, :, None],
        )

    def test_key_padding_attention_mask(self):
        query = np.zeros((2, 5, 3), "float32")  # 5 query steps
        attention_mask = sequence_ops.key_padding_attention_mask(
            query, self.mask
        )
        self.assertEqual(tuple(attention_mask.shape), (2, 5, 4))
        self.assertEqual(
            keras.backend.standardize_dtype(attention_mask.dtype), "bool"
        )
        expected = np.broadcast_to(self.mask[:, None, :] == 1, (2, 5, 4))
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(attention_mask), expected
        )

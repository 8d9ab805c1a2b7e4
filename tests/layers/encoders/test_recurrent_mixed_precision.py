"""Recurrent encoders under mixed precision compute their recurrence in float32.

`msakeras.backend.recurrent_dtype_policy` keeps every LSTM/GRU sublayer in
float32 under `mixed_float16` and `mixed_bfloat16` (jaxlib's cuDNN RNN has
no float16 kernel; a long recurrence accumulates rounding). Each encoder
must still return its own compute dtype and match its float32 outputs with
the same weights within the rounding of the reduced-precision layers around
the recurrence.
"""

import keras
import numpy as np
from absl.testing import parameterized

from msakeras import backend
from msakeras.layers.encoders import BiGRUMeanPooling
from msakeras.layers.encoders import bigru_sequence_encoder
from msakeras.layers.encoders import masked_lstm_encoder
from msakeras.testing import test_case

ENCODERS = {
    "masked_lstm": lambda dtype: masked_lstm_encoder.MaskedLSTMEncoder(
        hidden_dim=6, output_dim=4, bidirectional=True, dtype=dtype
    ),
    "bigru_mean_pooling": lambda dtype: BiGRUMeanPooling(5, dtype=dtype),
    "bigru_sequence": lambda dtype: bigru_sequence_encoder.BiGRUSequenceEncoder(
        hidden_dim=6, recurrent_dim=3, dtype=dtype
    ),
}


def recurrent_sublayers(layer):
    return [
        sublayer
        for sublayer in layer._flatten_layers(include_self=False)
        if isinstance(sublayer, (keras.layers.LSTM, keras.layers.GRU))
    ]


def first_output(outputs):
    return outputs["sequence"] if isinstance(outputs, dict) else outputs


class RecurrentMixedPrecisionTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(3, 7, 4)).astype("float32")
        self.mask = np.array(
            [[1, 1, 1, 1, 0, 0, 0], [1] * 7, [1, 0, 0, 0, 0, 0, 0]], "int32"
        )

    def test_policy_helper(self):
        for name in ("mixed_float16", "mixed_bfloat16"):
            policy = backend.recurrent_dtype_policy(name)
            self.assertEqual(policy.compute_dtype, "float32")
            self.assertEqual(policy.variable_dtype, "float32")
        self.assertEqual(
            backend.recurrent_dtype_policy("float32").compute_dtype, "float32"
        )
        self.assertEqual(
            backend.recurrent_dtype_policy("float64").compute_dtype, "float64"
        )

    @parameterized.named_parameters(
        *[
            (f"{name}_{policy}", name, policy)
            for name in ENCODERS
            for policy in ("mixed_float16", "mixed_bfloat16")
        ]
    )
    def test_recurrence_in_float32_outputs_in_compute_dtype(self, name, policy):
        reference = ENCODERS[name]("float32")
        expected = first_output(reference(self.inputs, mask=self.mask))
        mixed = ENCODERS[name](policy)
        outputs = first_output(mixed(self.inputs, mask=self.mask))
        mixed.set_weights(reference.get_weights())
        outputs = first_output(mixed(self.inputs, mask=self.mask))

        sublayers = recurrent_sublayers(mixed)
        self.assertNotEmpty(sublayers)
        for sublayer in sublayers:
            self.assertEqual(sublayer.compute_dtype, "float32", sublayer.name)
        self.assertEqual(
            keras.backend.standardize_dtype(outputs.dtype),
            keras.dtype_policies.get(policy).compute_dtype,
        )
        # float16 keeps 11 significant bits, bfloat16 8: the layers around
        # the float32 recurrence round to that.
        tolerance = 5e-3 if policy == "mixed_float16" else 4e-2
        self.assertAllClose(
            keras.ops.cast(outputs, "float32"),
            expected,
            atol=tolerance,
            rtol=tolerance,
        )

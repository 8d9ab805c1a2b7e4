import math

import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.layers.encoders import mult_transformer_encoder
from msakeras.testing import test_case


class MulTTransformerEncoderTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 5, 8)).astype("float32")
        self.context = rng.normal(size=(2, 3, 8)).astype("float32")
        self.mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")
        self.context_mask = np.array([[1, 1, 0], [1, 1, 1]], "int32")
        self.init_kwargs = {
            "hidden_dim": 8,
            "num_heads": 2,
            "num_layers": 2,
            "attention_dropout": 0.1,
            "relu_dropout": 0.1,
            "residual_dropout": 0.1,
            "embedding_dropout": 0.2,
        }

    def test_layer_basics(self):
        self.run_layer_test(
            mult_transformer_encoder.MulTTransformerEncoder,
            init_kwargs=self.init_kwargs,
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(2, 5, 8),
            expected_num_trainable_weights=34,
        )

    def test_layer_basics_cross_modal(self):
        self.run_layer_test(
            mult_transformer_encoder.MulTTransformerEncoder,
            init_kwargs={**self.init_kwargs, "num_layers": 1},
            input_data={
                "inputs": self.inputs,
                "mask": self.mask,
                "context": self.context,
                "context_mask": self.context_mask,
            },
            expected_output_shape=(2, 5, 8),
            expected_num_trainable_weights=18,
        )

    @parameterized.named_parameters(("self", False), ("cross", True))
    def test_composition(self, cross):
        encoder = mult_transformer_encoder.MulTTransformerEncoder(
            **self.init_kwargs
        )
        kwargs = {}
        if cross:
            kwargs = {
                "context": self.context,
                "context_mask": self.context_mask,
            }
        output = encoder(self.inputs, mask=self.mask, **kwargs)
        scale = math.sqrt(8)

        def embed(x, mask):
            return ops.add(x * scale, encoder.position_embedding(x, mask=mask))

        hidden = embed(self.inputs, self.mask)
        if cross:
            kwargs["context"] = embed(self.context, self.context_mask)
        for layer in encoder.transformer_layers:
            hidden = layer(hidden, mask=self.mask, **kwargs)
        self.assertAllClose(
            output, encoder.output_norm(hidden), atol=1e-5, rtol=1e-5
        )

    @parameterized.named_parameters(
        ("key_padding_mask", True), ("reference", False)
    )
    def test_padding(self, use_key_padding_mask):
        encoder = mult_transformer_encoder.MulTTransformerEncoder(
            **self.init_kwargs, use_key_padding_mask=use_key_padding_mask
        )
        # Not a constant shift: the pre-LN would normalise that away.
        noise = np.random.default_rng(1).normal(size=self.inputs.shape)
        noisy = self.inputs + 100.0 * noise * (1 - self.mask[:, :, None])
        noisy = noisy.astype("float32")
        valid = self.mask[:, :, None]
        clean_output = ops.convert_to_numpy(encoder(self.inputs, self.mask))
        noisy_output = ops.convert_to_numpy(encoder(noisy, self.mask))
        clean_output, noisy_output = clean_output * valid, noisy_output * valid
        if use_key_padding_mask:
            self.assertAllClose(clean_output, noisy_output, atol=1e-4)
        else:  # the reference attends to padded steps
            self.assertGreater(np.abs(clean_output - noisy_output).max(), 1e-3)

    def test_inference_is_deterministic(self):
        encoder = mult_transformer_encoder.MulTTransformerEncoder(
            **self.init_kwargs
        )
        self.assertAllClose(
            encoder(self.inputs, mask=self.mask, training=False),
            encoder(self.inputs, mask=self.mask, training=False),
        )

    def test_bad_config(self):
        cls = mult_transformer_encoder.MulTTransformerEncoder
        with self.assertRaisesRegex(ValueError, "num_layers"):
            cls(hidden_dim=8, num_heads=2, num_layers=0)
        with self.assertRaisesRegex(ValueError, "num_heads"):
            cls(hidden_dim=8, num_heads=3, num_layers=1)
        with self.assertRaisesRegex(ValueError, "embedding_dropout"):
            cls(hidden_dim=8, num_heads=2, num_layers=1, embedding_dropout=-1)
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            cls(hidden_dim=4, num_heads=2, num_layers=1)(self.inputs)

import numpy as np
from absl.testing import parameterized

from msakeras.layers.encoders import mult_transformer_layer
from msakeras.testing import test_case
from tests.layers.encoders import rnn_reference


def numpy_layer_norm(x, gamma, beta, epsilon=1e-5):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def numpy_mult_layer(weights, inputs, context, key_mask):
    """Pre-LN MulT layer in inference mode, Keras MHA weight layout."""

    def project(x, name):
        return (
            np.einsum("btd,dnh->btnh", x, weights[f"attention/{name}/kernel"])
            + weights[f"attention/{name}/bias"]
        )

    norm = ("attention_norm/gamma", "attention_norm/beta")
    query = numpy_layer_norm(inputs, *(weights[n] for n in norm))
    context = numpy_layer_norm(context, *(weights[n] for n in norm))
    q, k, v = (
        project(query, "query"),
        project(context, "key"),
        project(context, "value"),
    )
    scores = np.einsum("bqnh,bknh->bnqk", q, k) / np.sqrt(q.shape[-1])
    if key_mask is not None:
        scores = np.where(key_mask[:, None, None, :] > 0, scores, -1e9)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probabilities = scores / scores.sum(-1, keepdims=True)
    attended = np.einsum("bnqk,bknh->bqnh", probabilities, v)
    attended = (
        np.einsum(
            "bqnh,nhd->bqd",
            attended,
            weights["attention/attention_output/kernel"],
        )
        + weights["attention/attention_output/bias"]
    )
    hidden = inputs + attended
    normed = numpy_layer_norm(
        hidden,
        weights["feedforward_norm/gamma"],
        weights["feedforward_norm/beta"],
    )
    intermediate = np.maximum(
        normed @ weights["intermediate_dense/kernel"]
        + weights["intermediate_dense/bias"],
        0.0,
    )
    return hidden + (
        intermediate @ weights["output_dense/kernel"]
        + weights["output_dense/bias"]
    )


class MulTTransformerLayerTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 4, 8)).astype("float32")
        self.context = rng.normal(size=(2, 5, 8)).astype("float32")
        self.mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], "int32")
        self.context_mask = np.array(
            [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], "int32"
        )
        self.init_kwargs = {
            "num_heads": 2,
            "attention_dropout": 0.1,
            "relu_dropout": 0.1,
            "residual_dropout": 0.1,
        }

    def test_layer_basics_self_attention(self):
        self.run_layer_test(
            mult_transformer_layer.MulTTransformerLayer,
            init_kwargs=self.init_kwargs,
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(2, 4, 8),
            expected_num_trainable_weights=16,
        )

    def test_layer_basics_cross_attention(self):
        self.run_layer_test(
            mult_transformer_layer.MulTTransformerLayer,
            init_kwargs={**self.init_kwargs, "intermediate_dim": 6},
            input_data={
                "inputs": self.inputs,
                "context": self.context,
                "context_mask": self.context_mask,
            },
            expected_output_shape=(2, 4, 8),
            expected_num_trainable_weights=16,
        )

    @parameterized.named_parameters(
        ("self_masked", False, True),
        ("self_unmasked", False, False),
        ("cross_masked", True, True),
        ("cross_unmasked", True, False),
    )
    def test_matches_numpy(self, cross, use_key_padding_mask):
        layer = mult_transformer_layer.MulTTransformerLayer(
            **self.init_kwargs, use_key_padding_mask=use_key_padding_mask
        )
        if cross:
            output = layer(
                self.inputs,
                context=self.context,
                context_mask=self.context_mask,
            )
            context, key_mask = self.context, self.context_mask
        else:
            output = layer(self.inputs, mask=self.mask)
            context, key_mask = self.inputs, self.mask
        weights = rnn_reference.weights_by_name(layer)
        expected = numpy_mult_layer(
            weights,
            self.inputs,
            context,
            key_mask if use_key_padding_mask else None,
        )
        self.assertAllClose(output, expected, atol=1e-4, rtol=1e-4)

    def test_padded_keys_are_ignored(self):
        layer = mult_transformer_layer.MulTTransformerLayer(num_heads=2)
        # Not a constant shift: the pre-LN would normalise that away.
        noise = np.random.default_rng(1).normal(size=self.context.shape)
        noisy = self.context + 100.0 * noise * (
            1 - self.context_mask[..., None]
        )
        noisy = noisy.astype("float32")
        self.assertAllClose(
            layer(
                self.inputs,
                context=self.context,
                context_mask=self.context_mask,
            ),
            layer(self.inputs, context=noisy, context_mask=self.context_mask),
            atol=1e-4,
        )

    def test_bad_config(self):
        cls = mult_transformer_layer.MulTTransformerLayer
        with self.assertRaisesRegex(ValueError, "num_heads"):
            cls(num_heads=0)
        with self.assertRaisesRegex(ValueError, "residual_dropout"):
            cls(num_heads=2, residual_dropout=1.5)
        with self.assertRaisesRegex(ValueError, "num_heads"):
            cls(num_heads=3)(self.inputs)
        with self.assertRaisesRegex(ValueError, "context"):
            cls(num_heads=2)(self.inputs, context=self.context[..., :4])

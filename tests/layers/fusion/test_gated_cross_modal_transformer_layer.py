import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.layers.fusion import GatedCrossModalTransformerLayer
from msakeras.testing import TestCase


def _layer_norm(x, gamma, beta, epsilon=1e-5):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_gated_layer(w, query, context, x_s, x_m, context_mask, post_ln):
    """MCER eqs. 12–16 / BBFN, dropout off, from named weights `w`."""

    def attention(q_in, kv_in):
        q = (
            np.einsum("btd,dhk->bthk", q_in, w["query/kernel"])
            + w["query/bias"]
        )
        k = np.einsum("btd,dhk->bthk", kv_in, w["key/kernel"]) + w["key/bias"]
        v = (
            np.einsum("btd,dhk->bthk", kv_in, w["value/kernel"])
            + w["value/bias"]
        )
        scores = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(q.shape[-1])
        scores = np.where(context_mask[:, None, None, :] > 0, scores, -1e9)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probabilities = scores / scores.sum(-1, keepdims=True)
        heads = np.einsum("bhqs,bshk->bqhk", probabilities, v)
        return (
            np.einsum("bqhk,hkd->bqd", heads, w["attention_output/kernel"])
            + w["attention_output/bias"]
        )

    def feedforward(x):
        hidden = np.maximum(
            x @ w["feedforward_in/kernel"] + w["feedforward_in/bias"], 0.0
        )
        return hidden @ w["feedforward_out/kernel"] + w["feedforward_out/bias"]

    # Filter gate on [x_s; x_m], complementary gate on [x_m; x_s].
    g_f = _sigmoid(
        np.concatenate([x_s, x_m], -1) @ w["filter_gate/kernel"]
        + w["filter_gate/bias"]
    )[:, None, :]
    g_c = _sigmoid(
        np.concatenate([x_m, x_s], -1) @ w["complementary_gate/kernel"]
        + w["complementary_gate/bias"]
    )[:, None, :]
    ln1 = (w["attention_norm/gamma"], w["attention_norm/beta"])
    ln2 = (w["feedforward_norm/gamma"], w["feedforward_norm/beta"])
    if post_ln:
        o = attention(query, context)
        hidden = _layer_norm(g_f * query + g_c * o, *ln1)
        return _layer_norm(hidden + feedforward(hidden), *ln2)
    o = attention(_layer_norm(query, *ln1), _layer_norm(context, *ln1))
    hidden = g_f * query + g_c * o
    return hidden + feedforward(_layer_norm(hidden, *ln2))


class GatedCrossModalTransformerLayerTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.input_data = {
            "query": rng.normal(size=(2, 3, 4)).astype("float32"),
            "context": rng.normal(size=(2, 5, 4)).astype("float32"),
            "query_control": rng.normal(size=(2, 4)).astype("float32"),
            "context_control": rng.normal(size=(2, 4)).astype("float32"),
        }
        self.query_mask = np.array([[1, 1, 0], [1, 1, 1]], "int32")
        self.context_mask = np.array([[1, 1, 1, 0, 0], [1] * 5], "int32")

    def test_layer_basics(self):
        self.run_layer_test(
            GatedCrossModalTransformerLayer,
            {"num_heads": 2},
            self.input_data,
            expected_output_shape=(2, 3, 4),
            expected_num_trainable_weights=20,
            expected_num_non_trainable_weights=0,
        )

    @parameterized.named_parameters(("pre_ln", False), ("post_ln", True))
    def test_matches_numpy_with_fixed_weights(self, post_ln):
        layer = GatedCrossModalTransformerLayer(
            num_heads=2, dropout=0.0, attention_dropout=0.0, post_ln=post_ln
        )
        layer(**self.input_data)
        rng = np.random.default_rng(7)
        # Small fixed weights (gates away from saturation).
        layer.set_weights(
            [
                (0.3 * rng.normal(size=v.shape)).astype("float32")
                + (1.0 if v.path.endswith("gamma") else 0.0)
                for v in layer.weights
            ]
        )
        weights = {
            "/".join(v.path.split("/")[-2:]): ops.convert_to_numpy(v)
            for v in layer.weights
        }
        expected = numpy_gated_layer(
            weights,
            self.input_data["query"],
            self.input_data["context"],
            self.input_data["query_control"],
            self.input_data["context_control"],
            self.context_mask,
            post_ln,
        )
        expected = expected * self.query_mask[:, :, None]
        actual = layer(
            **self.input_data,
            query_mask=self.query_mask,
            context_mask=self.context_mask,
        )
        self.assertAllClose(actual, expected, atol=1e-5)

    def test_gates_weight_residual_and_attention(self):
        # Filter gate ≈ 1 and complementary gate ≈ 0 leave only the
        # residual path: out = M_s + FFN(LN(M_s)); swapped, M_s drops out.
        layer = GatedCrossModalTransformerLayer(
            num_heads=2, dropout=0.0, attention_dropout=0.0
        )
        layer(**self.input_data)
        layer.filter_gate.kernel.assign(np.zeros((8, 4), "float32"))
        layer.filter_gate.bias.assign(np.full((4,), 30.0, "float32"))
        layer.complementary_gate.kernel.assign(np.zeros((8, 4), "float32"))
        layer.complementary_gate.bias.assign(np.full((4,), -30.0, "float32"))
        output = layer(**self.input_data)
        changed = dict(self.input_data)
        changed["context"] = self.input_data["context"] + 5.0
        self.assertAllClose(layer(**changed), output, atol=1e-5)

    @parameterized.named_parameters(("pre_ln", False), ("post_ln", True))
    def test_masked_steps_never_change_outputs(self, post_ln):
        layer = GatedCrossModalTransformerLayer(num_heads=2, post_ln=post_ln)
        masks = {
            "query_mask": self.query_mask,
            "context_mask": self.context_mask,
        }
        output = layer(**self.input_data, **masks)
        noisy = dict(self.input_data)
        noisy["context"] = noisy["context"].copy()
        noisy["context"][0, 3:] += 100.0
        noisy["query"] = noisy["query"].copy()
        noisy["query"][0, 2:] -= 50.0
        noisy_output = layer(**noisy, **masks)
        self.assertAllClose(noisy_output, output, atol=1e-5)
        self.assertAllClose(noisy_output[0, 2:], np.zeros((1, 4)), atol=0)

    def test_rejects_indivisible_width(self):
        layer = GatedCrossModalTransformerLayer(num_heads=3)
        with self.assertRaisesRegex(ValueError, "divisible"):
            layer(**self.input_data)

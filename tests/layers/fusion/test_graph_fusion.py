import itertools

import numpy as np

from msakeras.layers.fusion import graph_fusion
from msakeras.testing import TestCase


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _elu(x):
    return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def _numpy_graph_fusion(layer, inputs):
    """ARGF `graph11_new` fusion, written out one sample at a time."""
    gate_kernel, gate_bias = layer.gate.get_weights()
    pair = [
        w
        for d in (layer.pair_hidden, layer.pair_output)
        for w in d.get_weights()
    ]
    triple = [
        w
        for d in (layer.triple_hidden, layer.triple_output)
        for w in d.get_weights()
    ]

    def mlp(weights, first, second):
        k1, b1, k2, b2 = weights
        hidden = np.concatenate([first, second]) @ k1 + b1
        hidden = np.where(hidden > 0, hidden, 0.2 * hidden)
        return np.tanh(hidden @ k2 + b2)

    outputs = []
    for x in zip(*inputs):
        s = [1 / (1 + np.exp(-(xm @ gate_kernel + gate_bias)[0])) for xm in x]
        unimodal = sum(s[m] * x[m] for m in range(3)) / 3
        p = [_softmax(xm) for xm in x]
        pairs = [(0, 1), (0, 2), (1, 2)]
        sigma = [(s[i] + s[j]) / (p[i] @ p[j] + 0.5) for i, j in pairs]
        w = _softmax(np.array(sigma))
        h = [mlp(pair, x[i], x[j]) for i, j in pairs]
        b = [_elu(w[n] * h[n]) for n in range(3)]
        q = [_softmax(hn) for hn in h]
        scores, node_inputs = [], []
        for first, second in itertools.combinations(range(3), 2):
            scores.append(
                (sigma[first] + sigma[second]) / (q[first] @ q[second] + 0.5)
            )
            node_inputs.append((b[first], b[second]))
        for n, (i, j) in enumerate(pairs):
            k = 3 - i - j
            scores.append((sigma[n] + s[k]) / (q[n] @ p[k] + 0.5))
            node_inputs.append((b[n], x[k]))
        v = _softmax(np.array(scores))
        trimodal = sum(
            _elu(v[n] * mlp(triple, *node_inputs[n])) for n in range(6)
        )
        outputs.append(np.concatenate([unimodal, sum(b), trimodal]))
    return np.stack(outputs)


class GraphFusionTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = [
            rng.normal(size=(3, 4)).astype("float32") for _ in range(3)
        ]

    def test_layer_basics(self):
        self.run_layer_test(
            graph_fusion.GraphFusion,
            {"hidden_dim": 5},
            {"inputs": self.inputs},
            expected_output_shape=(3, 12),
            expected_num_trainable_weights=10,
        )

    def test_matches_numpy(self):
        layer = graph_fusion.GraphFusion(hidden_dim=5)
        output = layer(self.inputs)
        self.assertAllClose(
            output, _numpy_graph_fusion(layer, self.inputs), atol=1e-5
        )

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "exactly 3"):
            graph_fusion.GraphFusion()(self.inputs[:2])
        with self.assertRaisesRegex(ValueError, "one known width"):
            graph_fusion.GraphFusion()(
                [self.inputs[0], self.inputs[1], self.inputs[2][:, :2]]
            )
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            graph_fusion.GraphFusion(hidden_dim=0)

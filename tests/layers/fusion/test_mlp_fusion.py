import numpy as np

from msakeras.layers.fusion import mlp_fusion
from msakeras.testing import TestCase


class MLPFusionTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.RandomState(0)
        self.inputs = [
            rng.normal(size=(3, width)).astype("float32") for width in (4, 2, 3)
        ]

    def test_layer_basics(self):
        self.run_layer_test(
            mlp_fusion.MLPFusion,
            {"hidden_dim": 5, "dropout": 0.2},
            {"inputs": self.inputs},
            expected_output_shape=(3, 5),
            expected_num_trainable_weights=4,
        )

    def test_matches_numpy_at_inference(self):
        layer = mlp_fusion.MLPFusion(hidden_dim=5, dropout=0.5)
        output = layer(self.inputs, training=False)
        hidden = np.concatenate(self.inputs, axis=-1)
        for dense in layer.dense_layers:
            kernel, bias = (np.asarray(w) for w in dense.get_weights())
            hidden = np.tanh(hidden @ kernel + bias)
        self.assertAllClose(output, hidden, atol=1e-5)

    def test_bad_config(self):
        for kwargs, argument in [
            ({"hidden_dim": 0}, "hidden_dim"),
            ({"num_layers": 0}, "num_layers"),
            ({"dropout": 1.5}, "dropout"),
        ]:
            with self.assertRaisesRegex(ValueError, argument):
                mlp_fusion.MLPFusion(**kwargs)

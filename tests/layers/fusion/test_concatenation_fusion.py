import numpy as np

from msakeras.layers.fusion import concatenation_fusion
from msakeras.testing import TestCase


class ConcatenationFusionTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = [
            rng.normal(size=(3, width)).astype("float32") for width in (4, 2, 3)
        ]

    def test_layer_basics(self):
        self.run_layer_test(
            concatenation_fusion.ConcatenationFusion,
            {},
            {"inputs": self.inputs},
            expected_output_shape=(3, 9),
            expected_num_trainable_weights=0,
        )

    def test_concatenates_in_order(self):
        layer = concatenation_fusion.ConcatenationFusion()
        self.assertAllClose(
            layer(self.inputs), np.concatenate(self.inputs, axis=-1)
        )

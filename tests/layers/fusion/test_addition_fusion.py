import numpy as np

from msakeras.layers.fusion import addition_fusion
from msakeras.testing import TestCase


class AdditionFusionTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = [
            rng.normal(size=(3, 4)).astype("float32") for _ in range(3)
        ]

    def test_layer_basics(self):
        self.run_layer_test(
            addition_fusion.AdditionFusion,
            {},
            {"inputs": self.inputs},
            expected_output_shape=(3, 4),
            expected_num_trainable_weights=0,
        )

    def test_sums_and_checks_widths(self):
        layer = addition_fusion.AdditionFusion()
        self.assertAllClose(layer(self.inputs), sum(self.inputs), atol=1e-6)
        with self.assertRaisesRegex(ValueError, "one width"):
            addition_fusion.AdditionFusion()(
                [self.inputs[0], self.inputs[1][:, :2]]
            )

import numpy as np

from msakeras.layers.fusion import tensor_fusion
from msakeras.testing import TestCase


class TensorFusionTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = [
            rng.normal(size=(3, width)).astype("float32") for width in (4, 2, 3)
        ]

    def test_layer_basics(self):
        self.run_layer_test(
            tensor_fusion.TensorFusion,
            {},
            {"inputs": self.inputs},
            expected_output_shape=(3, 5 * 3 * 4),
            expected_num_trainable_weights=0,
        )

    def test_matches_numpy_outer_product(self):
        output = tensor_fusion.TensorFusion()(self.inputs)
        augmented = [
            np.concatenate([x, np.ones((3, 1), "float32")], axis=-1)
            for x in self.inputs
        ]
        expected = np.einsum("bi,bj,bk->bijk", *augmented).reshape(3, -1)
        self.assertAllClose(output, expected, atol=1e-6)
        # The last feature is the constant 1; unimodal features survive.
        output = np.asarray(output)
        self.assertAllClose(output[:, -1], np.ones(3))
        self.assertAllClose(output[:, 11:-1:12][:, :4], self.inputs[0])

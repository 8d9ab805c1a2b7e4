import math

import numpy as np
from absl.testing import parameterized

from msakeras.layers.common import sinusoidal_position_embedding
from msakeras.testing import test_case


def fairseq_table(num_embeddings, embedding_dim):
    """fairseq `SinusoidalPositionalEmbedding.get_embedding`, padding_idx 0."""
    half_dim = embedding_dim // 2
    scale = math.log(10000) / (half_dim - 1)
    frequencies = np.exp(np.arange(half_dim) * -scale)
    angles = np.arange(num_embeddings)[:, None] * frequencies[None, :]
    table = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    if embedding_dim % 2 == 1:
        table = np.concatenate([table, np.zeros((num_embeddings, 1))], 1)
    table[0] = 0.0
    return table.astype("float32")


class SinusoidalPositionEmbeddingTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.inputs = rng.normal(size=(2, 5, 6)).astype("float32") + 3.0
        self.mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")

    def test_layer_basics(self):
        self.run_layer_test(
            sinusoidal_position_embedding.SinusoidalPositionEmbedding,
            init_kwargs={"first_channel_padding": True},
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(2, 5, 6),
            expected_num_trainable_weights=0,
        )

    @parameterized.named_parameters(("even", 6), ("odd", 7))
    def test_matches_fairseq(self, width):
        inputs = np.ones((2, 5, width), "float32")
        layer = sinusoidal_position_embedding.SinusoidalPositionEmbedding()
        table = fairseq_table(6, width)
        positions = np.arange(1, 6)[None, :] * self.mask  # 0 = padding
        self.assertAllClose(
            layer(inputs, mask=self.mask), table[positions], atol=1e-5
        )
        full = np.broadcast_to(np.arange(1, 6), (2, 5))
        self.assertAllClose(layer(inputs), table[full], atol=1e-5)

    def test_first_channel_padding_rule(self):
        inputs = self.inputs.copy()
        inputs[0, 1, 0] = 0.0  # MulT: padding, later positions do not shift
        inputs[1, 3:, 0] = 0.0
        table = fairseq_table(6, 6)
        positions = np.arange(1, 6)[None, :] * (inputs[..., 0] != 0)
        layer = sinusoidal_position_embedding.SinusoidalPositionEmbedding(
            first_channel_padding=True
        )
        self.assertAllClose(layer(inputs), table[positions], atol=1e-5)
        # Combined with the explicit mask.
        positions = positions * self.mask
        self.assertAllClose(
            layer(inputs, mask=self.mask), table[positions], atol=1e-5
        )
        # Without the rule, the first channel does not matter.
        layer = sinusoidal_position_embedding.SinusoidalPositionEmbedding()
        full = np.broadcast_to(np.arange(1, 6), (2, 5))
        self.assertAllClose(layer(inputs), table[full], atol=1e-5)

    def test_bad_config(self):
        cls = sinusoidal_position_embedding.SinusoidalPositionEmbedding
        with self.assertRaisesRegex(ValueError, "max_wavelength"):
            cls(max_wavelength=1.0)
        with self.assertRaisesRegex(ValueError, "first_channel_padding"):
            cls(first_channel_padding=1)
        with self.assertRaisesRegex(ValueError, "hidden_dim"):
            cls()(np.ones((2, 3, 3), "float32"))

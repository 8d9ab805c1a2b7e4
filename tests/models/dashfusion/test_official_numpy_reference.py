"""DashFusion's HBF, temporal alignment and sequence encoder against the
official PyTorch code transcribed in NumPy (`official_numpy.py`).

The parameters are drawn in the official layout, copied into the msakeras
layers, and the outputs compared within 1e-5 (inference, no masks in the
alignment and the HBF: the official behaviour and our default).
"""

import numpy as np
from absl.testing import parameterized

from msakeras.layers.fusion import hierarchical_bottleneck_fusion as hbf
from msakeras.models.dashfusion import dashfusion_layers
from msakeras.testing import test_case
from tests.models.dashfusion import official_numpy as official


def normal(rng, shape):
    return rng.normal(size=shape).astype("float32")


class OfficialReferenceTest(test_case.TestCase):
    @parameterized.named_parameters(
        # The official HBF starts from 8 bottleneck tokens.
        ("two_levels", 2, 10),
        ("three_levels_short_text", 3, 6),
    )
    def test_hierarchical_bottleneck_fusion(self, depth, text_steps):
        rng = np.random.default_rng(depth)
        width, heads, ff_dim = 8, 2, 12
        h = normal(rng, (2, text_steps, width))
        text = normal(rng, (2, text_steps, width))
        audio = normal(rng, (2, 7, width))
        vision = normal(rng, (2, 5, width))
        parameters = official.hbf_parameters(
            official.Parameters(10 + depth), width, ff_dim, depth
        )
        layer = hbf.HierarchicalBottleneckFusion(
            num_layers=depth,
            num_bottleneck_tokens=8,
            num_heads=heads,
            intermediate_dim=ff_dim,
        )
        layer.build(h.shape, text.shape, audio.shape, vision.shape)
        official.assign(layer, official.hbf_weights(parameters))
        # The official model: self.HBF(t_a_v_embed_all, t_embed_all,
        # v_embed_all, a_embed_all).
        expected = official.hierarchical_bottleneck_fusion(
            h, text, vision, audio, parameters, heads
        )
        outputs = layer(h, text, audio, vision, training=False)
        self.assertEqual(outputs.shape, (2, 4 * width))
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=1e-5)

    def test_temporal_alignment(self):
        rng = np.random.default_rng(1)
        # width 6 != heads · head_dim 8: the official `to_out` projection.
        width, heads, head_dim = 6, 2, 4
        text = normal(rng, (2, 5, width))
        audio = normal(rng, (2, 7, width))
        vision = normal(rng, (2, 4, width))
        parameters = official.temporal_alignment_parameters(
            official.Parameters(2), width, heads, head_dim
        )
        layer = dashfusion_layers.TemporalAlignment(
            num_heads=heads, head_dim=head_dim
        )
        layer.build(text.shape, audio.shape, vision.shape)
        official.assign(layer, official.temporal_alignment_weights(parameters))
        expected = official.temporal_alignment(
            text, audio, vision, parameters, heads, head_dim
        )
        outputs = layer(text, audio, vision, training=False)
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=1e-5)

    def test_sequence_encoder(self):
        rng = np.random.default_rng(3)
        features, width, heads, ff_dim, steps = 5, 8, 2, 12, 6
        lengths = np.array([6, 4, 1])
        valid = np.arange(steps)[None] < lengths[:, None]
        audio = normal(rng, (3, steps, features)) * valid[..., None]
        parameters = official.audio_encoder_parameters(
            official.Parameters(4), features, width, ff_dim, steps, layers=2
        )
        layer = dashfusion_layers.DashFusionSequenceEncoder(
            hidden_dim=width,
            num_layers=2,
            num_heads=heads,
            intermediate_dim=ff_dim,
            max_length=steps,
        )
        layer.build(audio.shape)
        official.assign(
            layer, official.sequence_encoder_weights(parameters, heads)
        )
        # Official dataloader: padding mask (True = padded) with the first
        # frame's entry prepended for [CLS] (every row's frame 0 is valid).
        key_padding_mask = np.concatenate(
            [np.zeros((3, 1), bool), ~valid], axis=1
        )
        expected = official.audio_encoder(
            audio, key_padding_mask, parameters, heads
        )
        outputs = layer(audio, valid.astype("int32"), training=False)
        self.assertAllClose(
            outputs["mask"], (~key_padding_mask).astype("int32")
        )
        self.assertAllClose(outputs["sequence"], expected, atol=1e-5, rtol=1e-5)

import numpy as np
from absl.testing import parameterized

from msakeras.layers.fusion import hierarchical_bottleneck_fusion as hbf
from msakeras.testing import test_case


class HierarchicalBottleneckFusionTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.init_kwargs = {
            "num_layers": 2,
            "num_bottleneck_tokens": 4,
            "num_heads": 2,
            "intermediate_dim": 16,
        }
        self.input_data = {
            "aligned": rng.normal(size=(2, 5, 8)).astype("float32"),
            "text": rng.normal(size=(2, 5, 8)).astype("float32"),
            "audio": rng.normal(size=(2, 4, 8)).astype("float32"),
            "vision": rng.normal(size=(2, 3, 8)).astype("float32"),
        }

    def test_layer_basics(self):
        self.run_layer_test(
            hbf.HierarchicalBottleneckFusion,
            self.init_kwargs,
            self.input_data,
            expected_output_shape=(2, 32),
            expected_num_trainable_weights=2 * (14 + 15 + 3 * 14),
        )

    @parameterized.named_parameters(
        ("three_layers", 3, 8, 10, [8, 4, 2]),
        ("short_text", 2, 8, 6, [6, 4]),
        ("floor_at_one", 4, 4, 10, [4, 2, 1, 1]),
    )
    def test_bottleneck_count_halves(
        self, num_layers, tokens, text_steps, expected
    ):
        layer = hbf.HierarchicalBottleneckFusion(
            num_layers=num_layers,
            num_bottleneck_tokens=tokens,
            num_heads=2,
            intermediate_dim=16,
        )
        rng = np.random.default_rng(1)
        aligned = rng.normal(size=(2, text_steps, 8)).astype("float32")
        fused, bottlenecks = layer(
            aligned,
            aligned,
            self.input_data["audio"],
            self.input_data["vision"],
            return_bottlenecks=True,
        )
        self.assertEqual([b.shape[1] for b in bottlenecks], expected)
        sizes = [tokens]
        for _ in range(num_layers - 1):
            sizes.append(max(1, sizes[-1] // 2))
        self.assertEqual(layer.bottleneck_sizes, sizes)
        self.assertEqual(tuple(fused.shape), (2, 32))

    @parameterized.named_parameters(("partial", 2), ("one", 1))
    def test_padded_steps_never_change_outputs(self, valid_steps):
        layer = hbf.HierarchicalBottleneckFusion(**self.init_kwargs)
        masks = {}
        noisy = {}
        for key in ("text", "audio", "vision"):
            steps = self.input_data[key].shape[1]
            mask = np.zeros((2, steps), "int32")
            mask[:, :valid_steps] = 1
            masks[f"{key}_mask"] = mask
            noisy[key] = self.input_data[key].copy()
            noisy[key][:, valid_steps:] += 100.0
        # `aligned` lies on the text axis: only its valid keys are read
        # beyond the bottleneck slice, so perturb its tail past `p_1`.
        noisy["aligned"] = self.input_data["aligned"].copy()
        clean = layer(**self.input_data, **masks)
        perturbed = layer(
            noisy["aligned"],
            noisy["text"],
            noisy["audio"],
            noisy["vision"],
            **masks,
        )
        self.assertAllClose(clean, perturbed, atol=1e-4)

    def test_rejects_mismatched_widths(self):
        layer = hbf.HierarchicalBottleneckFusion(**self.init_kwargs)
        with self.assertRaisesRegex(ValueError, "same width"):
            layer(
                self.input_data["aligned"],
                self.input_data["text"],
                self.input_data["audio"][..., :4],
                self.input_data["vision"],
            )

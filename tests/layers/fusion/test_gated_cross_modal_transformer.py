import numpy as np
from absl.testing import parameterized

from msakeras.layers.fusion import GatedCrossModalTransformer
from msakeras.testing import TestCase


class GatedCrossModalTransformerTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.input_data = {
            "first": rng.normal(size=(2, 4, 4)).astype("float32"),
            "second": rng.normal(size=(2, 5, 4)).astype("float32"),
            "first_summary": rng.normal(size=(2, 4)).astype("float32"),
            "second_summary": rng.normal(size=(2, 4)).astype("float32"),
        }
        self.masks = {
            "first_mask": np.array([[1, 1, 0, 0], [1] * 4], "int32"),
            "second_mask": np.array([[1, 1, 1, 0, 0], [1] * 5], "int32"),
        }

    def test_layer_basics(self):
        # Level 1: 2 linear controls (4), discriminator (4), two gated
        # layers (2 × 20); level 2: 2 BiGRU controls (2 × 6), discriminator,
        # two gated layers.
        self.run_layer_test(
            GatedCrossModalTransformer,
            {"num_layers": 2, "num_heads": 2},
            self.input_data,
            expected_output_shape={
                "first": (2, 4, 4),
                "second": (2, 5, 4),
                "discriminator_logits": (2, 2, 2),
            },
            expected_num_trainable_weights=104,
            expected_num_non_trainable_weights=0,
        )

    @parameterized.named_parameters(
        ("linear_pre_ln", "linear", False), ("bigru_post_ln", "bigru", True)
    )
    def test_masked_steps_never_change_outputs(self, first_control, post_ln):
        block = GatedCrossModalTransformer(
            num_layers=2,
            num_heads=2,
            first_control=first_control,
            post_ln=post_ln,
        )
        output = block(**self.input_data, **self.masks)
        noisy = dict(self.input_data)
        noisy["first"] = noisy["first"].copy()
        noisy["first"][0, 2:] += 100.0
        noisy["second"] = noisy["second"].copy()
        noisy["second"][0, 3:] -= 100.0
        noisy_output = block(**noisy, **self.masks)
        for key in ("first", "second", "discriminator_logits"):
            self.assertAllClose(noisy_output[key], output[key], atol=1e-4)
        self.assertAllClose(output["first"][0, 2:], np.zeros((2, 4)), atol=0)

    def test_discriminator_sees_both_modalities(self):
        block = GatedCrossModalTransformer(num_layers=1, num_heads=2)
        logits = block(**self.input_data, **self.masks)["discriminator_logits"]
        discriminator = block.discriminators[0]
        first_control = block.first_controls[0](
            self.input_data["first_summary"]
        )
        second_control = block.second_controls[0](
            self.input_data["second_summary"]
        )
        self.assertAllClose(
            logits[:, 0], discriminator(first_control, second_control), 1e-5
        )

    def test_rejects_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "first_control"):
            GatedCrossModalTransformer(first_control="conv")
        with self.assertRaisesRegex(ValueError, "num_layers"):
            GatedCrossModalTransformer(num_layers=0)

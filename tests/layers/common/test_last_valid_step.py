import numpy as np
from absl.testing import parameterized

from msakeras.layers.common import last_valid_step
from msakeras.testing import test_case


class LastValidStepTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.inputs = np.arange(30, dtype="float32").reshape(3, 5, 2) + 1.0
        self.mask = np.array(
            [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], "int32"
        )

    @parameterized.named_parameters(("forward", False), ("reverse", True))
    def test_layer_basics(self, reverse):
        self.run_layer_test(
            last_valid_step.LastValidStep,
            init_kwargs={"reverse": reverse},
            input_data={"inputs": self.inputs, "mask": self.mask},
            expected_output_shape=(3, 2),
            expected_num_trainable_weights=0,
        )

    def test_gathers_last_valid_step(self):
        output = last_valid_step.LastValidStep()(self.inputs, mask=self.mask)
        expected = np.stack(
            [self.inputs[0, 1], self.inputs[1, 4], np.zeros(2, "float32")]
        )
        self.assertAllClose(output, expected)
        self.assertAllClose(
            last_valid_step.LastValidStep()(self.inputs), self.inputs[:, -1]
        )

    def test_reverse_gathers_first_step(self):
        layer = last_valid_step.LastValidStep(reverse=True)
        expected = np.stack(
            [self.inputs[0, 0], self.inputs[1, 0], np.zeros(2, "float32")]
        )
        self.assertAllClose(layer(self.inputs, mask=self.mask), expected)

    def test_bad_config(self):
        with self.assertRaisesRegex(ValueError, "reverse"):
            last_valid_step.LastValidStep(reverse="yes")

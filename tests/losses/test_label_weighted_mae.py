import numpy as np

from msakeras import losses
from msakeras.testing import test_case


def reference(unimodal_labels, predictions, multimodal_labels):
    return np.tanh(np.abs(unimodal_labels - multimodal_labels)) * np.abs(
        predictions - unimodal_labels
    )


class LabelWeightedMAETest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        generator = np.random.default_rng(0)
        self.y_s = generator.uniform(-3, 3, 5).astype("float32")
        self.y_m = generator.uniform(-3, 3, 5).astype("float32")
        self.y_m[0] = self.y_s[0]  # equal labels: zero weight
        self.predictions = generator.normal(size=(5, 1)).astype("float32")

    def test_loss_basics(self):
        self.run_loss_test(
            losses.LabelWeightedMAE,
            lambda y_true, y_pred: losses.label_weighted_mae(
                y_true[:, 0], y_pred, y_true[:, 1]
            ),
            {},
            np.stack([self.y_s, self.y_m], axis=-1),
            self.predictions,
        )

    def test_matches_numpy(self):
        values = losses.label_weighted_mae(
            self.y_s, self.predictions, self.y_m[:, None]
        )
        expected = reference(self.y_s, self.predictions[:, 0], self.y_m)
        self.assertAllClose(values, expected, atol=1e-6)
        self.assertAllClose(values[0], 0.0)

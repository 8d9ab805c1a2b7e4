import numpy as np

from msakeras import losses
from msakeras.testing import TestCase


def numpy_bce(first_logits, second_logits):
    """BBFN: sigmoid, then BCE with targets 0 (first) and 1 (second)."""
    first = 1.0 / (1.0 + np.exp(-first_logits))
    second = 1.0 / (1.0 + np.exp(-second_logits))
    return 0.5 * (-np.log(1.0 - first) - np.log(second))


class ModalityDiscriminationTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(1)
        self.first = rng.normal(size=(5,)).astype("float32")
        self.second = rng.normal(size=(5,)).astype("float32")

    def test_matches_numpy_bce(self):
        self.assertAllClose(
            losses.modality_discrimination(self.first, self.second),
            numpy_bce(self.first, self.second),
            atol=1e-5,
        )

    def test_perfect_discriminator_has_small_loss(self):
        value = losses.modality_discrimination(
            np.full((3,), -20.0), np.full((3,), 20.0)
        )
        self.assertAllClose(value, np.zeros(3), atol=1e-6)

    def test_chance_is_log_two(self):
        value = losses.modality_discrimination(np.zeros(2), np.zeros(2))
        self.assertAllClose(value, np.full(2, np.log(2.0)), atol=1e-6)

    def test_loss_class(self):
        self.run_loss_test(
            losses.ModalityDiscrimination,
            losses.modality_discrimination,
            {},
            self.first,
            self.second,
        )

import numpy as np

from msakeras import losses
from msakeras.testing import TestCase


def numpy_gaussian_kl(mean, scale):
    """MIB: ½ · mean_dims(μ² + σ² − 2 log σ − 1), per sample."""
    terms = mean**2 + scale**2 - 2.0 * np.log(scale) - 1.0
    return 0.5 * terms.mean(axis=-1)


class GaussianKLTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.mean = rng.normal(size=(4, 3)).astype("float32")
        self.scale = rng.uniform(0.1, 2.0, size=(4, 3)).astype("float32")

    def test_matches_numpy(self):
        self.assertAllClose(
            losses.gaussian_kl(self.mean, self.scale),
            numpy_gaussian_kl(self.mean, self.scale),
            atol=1e-5,
        )

    def test_standard_normal_has_zero_kl(self):
        self.assertAllClose(
            losses.gaussian_kl(np.zeros((2, 5)), np.ones((2, 5))),
            np.zeros(2),
            atol=1e-7,
        )

    def test_loss_class(self):
        self.run_loss_test(
            losses.GaussianKL,
            losses.gaussian_kl,
            {},
            self.mean,
            self.scale,
        )

import keras
import numpy as np
from absl.testing import parameterized
from keras import ops

from msakeras.losses import class_conditional_gaussian_entropy
from msakeras.testing import TestCase


def _reference(vectors, class_weights, epsilon):
    entropies = []
    for column in class_weights.T:
        members = vectors[column > 0]
        mean = members.mean(axis=0)
        centered = members - mean
        covariance = centered.T @ centered / len(members)
        covariance += epsilon * np.eye(vectors.shape[-1])
        entropies.append(0.5 * np.linalg.slogdet(covariance)[1])
    return np.array(entropies)


def _gradient(fn, value):
    """Gradient of `fn(value)` (a scalar) with respect to `value`."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        value = tf.constant(value)
        with tf.GradientTape() as tape:
            tape.watch(value)
            output = fn(value)
        return tape.gradient(output, value)
    import torch

    value = torch.tensor(value, requires_grad=True)
    return torch.autograd.grad(fn(value), value)[0]


class ClassConditionalGaussianEntropyTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.vectors = rng.normal(size=(10, 2)).astype("float32")
        # Rows 0-4 positive, 5-8 negative, 9 in no class (zero label).
        self.class_weights = np.zeros((10, 2), "float32")
        self.class_weights[:5, 0] = 1.0
        self.class_weights[5:9, 1] = 1.0

    @parameterized.named_parameters(("ridge", 1e-6), ("large_ridge", 0.1))
    def test_matches_numpy(self, epsilon):
        entropies, valid = class_conditional_gaussian_entropy(
            self.vectors, self.class_weights, min_samples=3, epsilon=epsilon
        )
        self.assertAllClose(
            entropies,
            _reference(self.vectors, self.class_weights, epsilon),
            atol=1e-4,
            rtol=1e-4,
        )
        self.assertAllClose(valid, np.array([True, True]))

    def test_mmim_entropy_mapping(self):
        entropies, _ = class_conditional_gaussian_entropy(
            self.vectors, self.class_weights, min_samples=3
        )
        log_determinants = 2.0 * _reference(
            self.vectors, self.class_weights, 1e-6
        )
        self.assertAllClose(
            0.5 * ops.sum(entropies), 0.25 * np.sum(log_determinants), atol=1e-4
        )

    @parameterized.named_parameters(("one_member", 1), ("no_member", 0))
    def test_small_class_is_invalid_and_finite(self, members):
        class_weights = self.class_weights.copy()
        class_weights[:, 1] = 0.0
        class_weights[5 : 5 + members, 1] = 1.0
        entropies, valid = class_conditional_gaussian_entropy(
            self.vectors, class_weights, min_samples=3
        )
        self.assertAllClose(valid, np.array([True, False]))
        self.assertAllClose(entropies[1], 0.0)

        gradient = _gradient(
            lambda vectors: ops.sum(
                class_conditional_gaussian_entropy(
                    vectors, class_weights, min_samples=3
                )[0]
            ),
            self.vectors,
        )
        gradient = ops.convert_to_numpy(gradient)
        self.assertAllFinite(gradient)
        # Only the valid (positive) class's rows receive gradient.
        self.assertGreater(np.abs(gradient[:5]).sum(), 0.0)
        self.assertAllClose(gradient[5:], np.zeros_like(gradient[5:]))

    def test_singular_valid_class_is_finite(self):
        # Two identical rows: a singular covariance kept finite by epsilon.
        vectors = np.ones((3, 2), "float32")
        class_weights = np.ones((3, 1), "float32")
        entropies, valid = class_conditional_gaussian_entropy(
            vectors, class_weights, min_samples=1
        )
        self.assertAllFinite(entropies)
        self.assertAllClose(entropies, np.array([np.log(1e-6)]), rtol=1e-3)
        gradient = _gradient(
            lambda value: ops.sum(
                class_conditional_gaussian_entropy(
                    value, class_weights, min_samples=1
                )[0]
            ),
            vectors,
        )
        self.assertAllFinite(gradient)

import keras
import numpy as np
from keras import ops

from msakeras.losses import InfoNCE
from msakeras.losses import info_nce
from msakeras.testing import TestCase


def _normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _reference(representations, predictions, transpose=False):
    scores = _normalize(representations) @ _normalize(predictions).T
    if transpose:
        scores = scores.T
    log_sum = np.log(np.sum(np.exp(scores), axis=-1))
    return -(np.diag(scores) - log_sum)


class InfoNCETest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.representations = rng.normal(size=(4, 3)).astype("float32")
        self.predictions = rng.normal(size=(4, 3)).astype("float32")

    def test_function_matches_numpy(self):
        self.assertAllClose(
            info_nce(self.representations, self.predictions),
            _reference(self.representations, self.predictions),
            atol=1e-5,
        )

    def test_normalises_over_predictions_not_representations(self):
        ours = ops.convert_to_numpy(
            info_nce(self.representations, self.predictions)
        )
        paper = _reference(
            self.representations, self.predictions, transpose=True
        )
        self.assertGreater(np.max(np.abs(ours - paper)), 1e-3)

    def test_scale_invariant_and_zero_row_finite(self):
        scaled = info_nce(3.0 * self.representations, 0.5 * self.predictions)
        self.assertAllClose(
            scaled, info_nce(self.representations, self.predictions), atol=1e-5
        )
        zero = self.representations.copy()
        zero[0] = 0.0
        self.assertAllFinite(info_nce(zero, self.predictions))

    def test_loss_contract(self):
        self.run_loss_test(
            InfoNCE, info_nce, {}, self.representations, self.predictions
        )

    def test_loss_is_differentiable(self):
        predictions = keras.Variable(self.predictions)
        loss = InfoNCE()
        if keras.config.backend() == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                value = loss(self.representations, predictions)
            gradient = tape.gradient(value, predictions.value)
        else:
            import torch

            value = loss(self.representations, predictions)
            gradient = torch.autograd.grad(value, predictions.value)[0]
        self.assertAllFinite(gradient)
        self.assertGreater(
            float(np.abs(ops.convert_to_numpy(gradient)).sum()), 0.0
        )

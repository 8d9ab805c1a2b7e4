"""Every objective computes in float32 when its inputs are 16-bit.

Under `mixed_bfloat16` / `mixed_float16` the layers hand the losses 16-bit
tensors. Each loss must upcast first: its value on bfloat16 inputs equals
(to float32 round-off) its value on the same numbers in float32, is finite,
is float32, and stays close to the value on the unrounded float32 inputs.
InfoNCE is also checked against a NumPy re-implementation.
"""

import keras
import numpy as np
from absl.testing import parameterized

from msakeras import losses
from msakeras.layers.estimators import mmilb
from msakeras.testing import TestCase


def _bfloat16_rounded(array):
    value = keras.ops.cast(keras.ops.convert_to_tensor(array), "bfloat16")
    return value, keras.ops.convert_to_numpy(keras.ops.cast(value, "float32"))


def _numpy_info_nce(representations, predictions):
    def normalize(rows):
        norms = np.sqrt(np.maximum(np.sum(rows**2, -1, keepdims=True), 1e-12))
        return rows / norms

    r, p = normalize(representations), normalize(predictions)
    scores = r @ p.T
    top = scores.max(-1, keepdims=True)
    lse = np.log(np.exp(scores - top).sum(-1)) + top[:, 0]
    return -(np.sum(r * p, -1) - lse)


def _labels(batch, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.round(rng.uniform(-3, 3, batch) * 2) / 2
    labels[:2] = [1.5, -2.0]  # both polarities present
    return labels.astype("float32")


CASES = {
    "info_nce": (
        lambda a, b, y: losses.info_nce(a, b),
        ((16, 8), (16, 8)),
    ),
    "nt_xent": (
        lambda a, b, y: losses.nt_xent(a, b, temperature=0.1),
        ((16, 8), (16, 8)),
    ),
    "supervised_contrastive": (
        lambda a, b, y: losses.supervised_contrastive(y, a, temperature=0.1),
        ((16, 8), (16, 8)),
    ),
    "hybrid_contrastive": (
        lambda a, b, y: losses.hybrid_contrastive(y, a),
        ((16, 3, 8), (16, 8)),
    ),
    "gaussian_kl": (
        lambda a, b, y: losses.gaussian_kl(a, keras.ops.abs(b)),
        ((16, 8), (16, 8)),
    ),
    "gaussian_entropy": (
        lambda a, b, y: losses.class_conditional_gaussian_entropy(
            a,
            np.stack([y > 0, y < 0], -1).astype("float32"),
            min_samples=3,
        )[0],
        ((16, 2), (16, 8)),
    ),
}


class MixedPrecisionLossTest(TestCase):
    @parameterized.named_parameters(*[(name, name) for name in CASES])
    def test_bfloat16_inputs_compute_in_float32(self, name):
        function, (shape_a, shape_b) = CASES[name]
        rng = np.random.default_rng(1)
        first = rng.normal(size=shape_a).astype("float32")
        second = rng.normal(size=shape_b).astype("float32")
        labels = _labels(shape_a[0])
        first_16, first_rounded = _bfloat16_rounded(first)
        second_16, second_rounded = _bfloat16_rounded(second)

        value_16 = function(first_16, second_16, labels)
        self.assertEqual(
            keras.backend.standardize_dtype(value_16.dtype), "float32"
        )
        value_16 = keras.ops.convert_to_numpy(value_16)
        self.assertAllFinite(value_16)
        on_rounded = keras.ops.convert_to_numpy(
            function(first_rounded, second_rounded, labels)
        )
        # Upcast first: the same numbers give the float32 result.
        self.assertAllClose(value_16, on_rounded, atol=1e-5, rtol=1e-5)
        exact = keras.ops.convert_to_numpy(function(first, second, labels))
        # Only the input rounding (8 significant bits) separates them.
        self.assertAllClose(value_16, exact, atol=5e-2, rtol=2e-2)

    def test_info_nce_bfloat16_against_numpy(self):
        rng = np.random.default_rng(2)
        representations = rng.normal(size=(32, 16)).astype("float32")
        predictions = rng.normal(size=(32, 16)).astype("float32")
        r16, r_rounded = _bfloat16_rounded(representations)
        p16, p_rounded = _bfloat16_rounded(predictions)
        self.assertAllClose(
            losses.info_nce(r16, p16),
            _numpy_info_nce(r_rounded, p_rounded),
            atol=1e-5,
            rtol=1e-5,
        )

    def test_mmilb_log_likelihood_float32_under_mixed_policy(self):
        rng = np.random.default_rng(3)
        x = rng.normal(size=(8, 16)).astype("float32")
        y = rng.normal(size=(8, 8)).astype("float32")
        full = mmilb.MMILB(name="critic")
        full_out = full(x, y)
        mixed = mmilb.MMILB(dtype="mixed_bfloat16", name="critic")
        mixed(x, y)
        mixed.set_weights(full.get_weights())
        mixed_out = mixed(x, y)
        log_likelihood = mixed_out["log_likelihood"]
        self.assertEqual(
            keras.backend.standardize_dtype(log_likelihood.dtype), "float32"
        )
        self.assertAllFinite(log_likelihood)
        # Layers in bfloat16, the likelihood itself in float32.
        self.assertAllClose(
            log_likelihood, full_out["log_likelihood"], atol=0.1, rtol=5e-2
        )

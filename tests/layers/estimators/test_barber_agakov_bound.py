"""`BarberAgakovBound`: outputs, variable paths, `lld`, entropy, memory."""

import re

import keras
import numpy as np
from keras import ops

from msakeras.layers.estimators import BarberAgakovBound
from msakeras.layers.estimators import barber_agakov_bound
from msakeras.testing import TestCase

BATCH = 6
LABELS = np.array([1.5, -2.0, 0.5, -0.5, 2.5, -1.0], dtype="float32")


def _numpy_entropy(vectors, labels, epsilon=1e-6):
    """Official MMIM entropy: `¼ Σ_c logdet Σ_c` over the classes `y > 0`,
    `y < 0` (biased full covariance), skipping a class with fewer than
    `k + 1` rows."""
    width = vectors.shape[1]
    total = 0.0
    for member in (labels > 0, labels < 0):
        rows = vectors[member].astype("float64")
        if len(rows) < width + 1:
            continue
        centred = rows - rows.mean(axis=0)
        covariance = centred.T @ centred / len(rows)
        covariance += epsilon * np.eye(width)
        total += 0.25 * np.linalg.slogdet(covariance)[1]
    return total


def _batch(seed):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(BATCH, 8)).astype("float32"),
        rng.normal(size=(BATCH, 16)).astype("float32"),
        rng.normal(size=(BATCH, 12)).astype("float32"),
    )


def _numpy(outputs):
    return {key: ops.convert_to_numpy(value) for key, value in outputs.items()}


class BarberAgakovBoundTest(TestCase):
    def test_outputs_and_config(self):
        bound = BarberAgakovBound(memory_capacity=8, name="ba_bound")
        outputs = _numpy(bound(*_batch(0)))
        self.assertEqual(
            {key: value.shape for key, value in outputs.items()},
            {
                "lld_text_vision": (BATCH,),
                "lld_text_audio": (BATCH,),
                "entropy_projection_vision": (BATCH, 4),
                "entropy_projection_audio": (BATCH, 3),
            },
        )
        restored = BarberAgakovBound.from_config(bound.get_config())
        self.assertEqual(restored.get_config(), bound.get_config())
        self.assertEqual(restored.memory_capacity, 8)

    def test_optimizer_pattern_selects_the_critics_only(self):
        bound = BarberAgakovBound(memory_capacity=8, name="ba_bound")
        bound(*_batch(0))
        pattern = re.compile(barber_agakov_bound.MMILB_PATTERN)
        for variable in bound.trainable_variables:
            self.assertTrue(pattern.fullmatch(variable.path), variable.path)
            self.assertIn("ba_bound/mmilb_text_", variable.path)
        memories = [
            variable
            for memory in bound.memory_layers().values()
            for variable in memory.variables
        ]
        self.assertLen(memories, 6)
        for variable in memories:
            self.assertIsNone(pattern.fullmatch(variable.path), variable.path)

    def test_log_likelihood_is_the_sum_of_batch_means(self):
        bound = BarberAgakovBound(memory_capacity=8)
        outputs = bound(*_batch(1))
        lld = float(ops.convert_to_numpy(bound.log_likelihood(outputs)))
        values = _numpy(outputs)
        expected = (
            values["lld_text_vision"].mean() + values["lld_text_audio"].mean()
        )
        self.assertAllClose(lld, expected, rtol=1e-5)
        self.assertAllClose(bound.lld_tracker.result(), expected, rtol=1e-5)

    def test_entropy_uses_the_previous_batch_from_the_third_on(self):
        bound = BarberAgakovBound(memory_capacity=8)
        results, projections = [], []
        for seed in range(3):
            outputs = bound(*_batch(seed))
            projections.append(_numpy(outputs))
            results.append(
                float(ops.convert_to_numpy(bound.entropy(LABELS, outputs)))
            )
        # Batch 0: empty memory; batch 1: computed, not added.
        self.assertEqual(results[:2], [0.0, 0.0])
        expected = sum(
            _numpy_entropy(
                np.concatenate(
                    [
                        projections[1][f"entropy_projection_{modality}"],
                        projections[2][f"entropy_projection_{modality}"],
                    ]
                ),
                np.concatenate([LABELS, LABELS]),
            )
            for modality in ("vision", "audio")
        )
        self.assertAllClose(results[2], expected, rtol=1e-4, atol=1e-4)
        # A current batch alone (3 rows per class) is too small for the
        # width-4 vision projection: no class is skipped with history.
        self.assertEqual(float(bound.skipped_tracker.result()), 0.0)
        counter = bound.vision_memory.batch_counter
        self.assertEqual(int(ops.convert_to_numpy(counter)), 3)
        bound.reset_memories()
        self.assertEqual(int(ops.convert_to_numpy(counter)), 0)
        outputs = bound(*_batch(4))
        self.assertEqual(
            float(ops.convert_to_numpy(bound.entropy(LABELS, outputs))), 0.0
        )

    def test_in_a_functional_model(self):
        inputs = [keras.Input((8,)), keras.Input((16,)), keras.Input((12,))]
        bound = BarberAgakovBound(memory_capacity=8, name="ba_bound")
        model = keras.Model(inputs, bound(*inputs))
        values = _numpy(model.predict(list(_batch(2)), verbose=0))
        self.assertAllClose(
            values["lld_text_audio"],
            ops.convert_to_numpy(bound(*_batch(2))["lld_text_audio"]),
        )

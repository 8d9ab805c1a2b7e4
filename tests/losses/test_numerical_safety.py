"""Objectives stay finite, value and gradient, where the spec says they can
blow up (issue #11): singular covariances, empty positive / negative sets,
log-sum-exp on large scores, zero vectors."""

import keras
import numpy as np
from absl.testing import parameterized
from keras import ops

import msakeras
from msakeras.testing import TestCase


class LossOfWeight(keras.layers.Layer):
    """Holds `initial` as a trainable weight; adds `loss_fn(weight)`."""

    def __init__(self, initial, loss_fn, **kwargs):
        super().__init__(**kwargs)
        self.initial = np.asarray(initial, "float32")
        self.loss_fn = loss_fn

    def build(self, inputs_shape):
        self.value = self.add_weight(
            shape=self.initial.shape,
            initializer=keras.initializers.Constant(self.initial),
            name="value",
        )

    def call(self, inputs):
        self.add_loss(self.loss_fn(self.value))
        return inputs


def one_sgd_step(initial, loss_fn):
    """Value of `loss_fn(initial)` and the weight after one SGD step."""
    inputs = keras.Input((1,))
    layer = LossOfWeight(initial, loss_fn)
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mae")
    history = model.fit(
        np.zeros((2, 1), "float32"),
        np.zeros((2, 1), "float32"),
        epochs=1,
        verbose=0,
    )
    return history.history["loss"][0], ops.convert_to_numpy(layer.value)


def identical_rows(num_rows, width):
    return np.tile(np.linspace(-0.5, 0.5, width), (num_rows, 1))


class NumericalSafetyTest(TestCase):
    @parameterized.named_parameters(
        ("identical_vectors", identical_rows(6, 4)),
        ("rank_one", np.outer(np.arange(6) - 2.5, np.ones(4)) * 0.1),
        ("fewer_rows_than_width", np.random.RandomState(0).normal(size=(3, 8))),
    )
    def test_entropy_with_singular_covariance(self, vectors):
        weights = np.zeros((len(vectors), 2), "float32")
        weights[:, 0] = 1.0  # every row in class 0; class 1 is empty

        def entropy(value):
            entropies, _ = msakeras.losses.class_conditional_gaussian_entropy(
                ops.tanh(value), weights, min_samples=2
            )
            return 0.5 * ops.sum(entropies)

        loss, after = one_sgd_step(vectors, entropy)
        self.assertTrue(np.isfinite(loss), loss)
        self.assertTrue(np.all(np.isfinite(after)))
        entropies, valid = (
            ops.convert_to_numpy(value)
            for value in msakeras.losses.class_conditional_gaussian_entropy(
                np.tanh(vectors).astype("float32"), weights, min_samples=2
            )
        )
        self.assertEqual(valid.tolist(), [True, False])
        self.assertEqual(float(entropies[1]), 0.0)

    @parameterized.named_parameters(
        ("one_class_no_negatives", [1.0, 2.0, 0.5, 3.0]),
        ("singletons_no_positives", [1.0, -1.0]),
        ("all_zero_labels_excluded", [0.0, 0.0, 0.0]),
    )
    def test_ratio_losses_with_empty_sets(self, labels):
        labels = np.asarray(labels, "float32")
        rng = np.random.RandomState(1)
        embeddings = rng.normal(size=(len(labels), 3, 4)).astype("float32")
        embeddings[0, 1] = 0.0  # a zero vector too

        for loss_fn in (
            msakeras.losses.intra_modal_contrastive,
            msakeras.losses.inter_modal_contrastive,
        ):
            zero_class = "exclude" if not np.any(labels) else "non_negative"

            def loss(value, loss_fn=loss_fn):
                return ops.mean(
                    loss_fn(labels, value, zero_label_class=zero_class)
                )

            value, after = one_sgd_step(embeddings, loss)
            self.assertTrue(np.isfinite(value), (loss_fn.__name__, value))
            self.assertTrue(np.all(np.isfinite(after)), loss_fn.__name__)

    def test_ratio_is_one_without_negatives(self):
        # `docs/models/hycon.md`: M = 0 gives r = 1, so with refinement off the
        # intra-modal loss is exactly -1 for every anchor with positives.
        labels = np.asarray([1.0, 2.0, 0.5], "float32")
        embeddings = np.random.RandomState(2).normal(size=(3, 3, 4))
        values = msakeras.losses.intra_modal_contrastive(
            labels, embeddings.astype("float32"), refinement=False
        )
        self.assertAllClose(values, -np.ones(3), atol=1e-6)

    @parameterized.named_parameters(("small", 0.01), ("tiny", 1e-3))
    def test_log_sum_exp_on_large_scores(self, temperature):
        rng = np.random.RandomState(3)
        embeddings = rng.normal(size=(6, 4)).astype("float32")
        labels = np.asarray([1, 1, 1, -1, -1, 2], "float32")

        def supervised(value):
            return ops.mean(
                msakeras.losses.supervised_contrastive(
                    labels, value, temperature=temperature
                )
            )

        loss, after = one_sgd_step(embeddings, supervised)
        self.assertTrue(np.isfinite(loss), loss)
        self.assertTrue(np.all(np.isfinite(after)))
        # NumPy reference with the max subtracted: the same finite value.
        normalized = embeddings / np.linalg.norm(embeddings, axis=1)[:, None]
        logits = normalized @ normalized.T / temperature
        classes = np.round(labels)
        total, count = 0.0, 0
        per_anchor = []
        for a in range(6):
            negatives = logits[a][classes != classes[a]]
            top = negatives.max()
            lse = top + np.log(np.sum(np.exp(negatives - top)))
            pairs = [
                np.logaddexp(0.0, lse - logits[a, p])
                for p in range(6)
                if p != a and classes[p] == classes[a]
            ]
            per_anchor.append(np.sum(pairs) / max(len(pairs), 1))
            total += np.sum(pairs)
            count += len(pairs)
        values = msakeras.losses.supervised_contrastive(
            labels, embeddings, temperature=temperature
        )
        self.assertAllClose(values, np.asarray(per_anchor), rtol=1e-4)

    def test_info_nce_with_zero_and_large_vectors(self):
        rng = np.random.RandomState(4)
        predictions = rng.normal(size=(4, 5)).astype("float32")
        representations = rng.normal(size=(4, 5)).astype("float32") * 1e15
        representations[1] = 0.0

        def loss(value):
            return ops.mean(msakeras.losses.info_nce(value, predictions))

        value, after = one_sgd_step(representations, loss)
        self.assertTrue(np.isfinite(value), value)
        self.assertTrue(np.all(np.isfinite(after)))

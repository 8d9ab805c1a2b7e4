import numpy as np

from msakeras import losses as supcon
from msakeras.testing import test_case


def numpy_supervised_contrastive(
    labels, embeddings, temperature, round_labels=True
):
    classes = np.round(labels) if round_labels else labels
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    logits = unit @ unit.T / temperature
    values = np.zeros(len(labels))
    for i in range(len(labels)):
        negatives = [n for n in range(len(labels)) if classes[n] != classes[i]]
        pair_losses = []
        for p in range(len(labels)):
            if p == i or classes[p] != classes[i]:
                continue
            denominator = np.exp(logits[i, p]) + sum(
                np.exp(logits[i, n]) for n in negatives
            )
            pair_losses.append(-np.log(np.exp(logits[i, p]) / denominator))
        values[i] = np.mean(pair_losses) if pair_losses else 0.0
    return values


class SupervisedContrastiveTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        # Classes after rounding: 1, 1, -2, 0, -2, 3 (3 has no positive).
        self.labels = np.array([0.6, 1.4, -2.2, 0.2, -1.8, 2.8], "float32")
        self.embeddings = rng.normal(size=(6, 5)).astype("float32")

    def test_loss_basics(self):
        self.run_loss_test(
            supcon.SupervisedContrastive,
            supcon.supervised_contrastive,
            {"temperature": 0.5},
            self.labels,
            self.embeddings,
        )

    def test_matches_numpy_reference(self):
        for round_labels in (True, False):
            labels = (
                self.labels
                if round_labels
                else np.array([0.2, 0.2, -0.4, 0.0, -0.4, 0.8], "float32")
            )
            expected = numpy_supervised_contrastive(
                labels, self.embeddings, 0.5, round_labels
            )
            actual = supcon.supervised_contrastive(
                labels, self.embeddings, 0.5, round_labels=round_labels
            )
            self.assertAllClose(actual, expected, atol=1e-5, rtol=1e-5)

    def test_anchor_without_positive_gives_zero(self):
        values = supcon.supervised_contrastive(self.labels, self.embeddings)
        self.assertAllClose(np.asarray(values)[5], 0.0)

    def test_single_class_batch_is_zero_not_nan(self):
        labels = np.ones(6, "float32")
        values = supcon.supervised_contrastive(labels, self.embeddings)
        self.assertAllFinite(values)
        self.assertAllClose(values, np.zeros(6), atol=1e-7)
        single = supcon.supervised_contrastive(labels[:1], self.embeddings[:1])
        self.assertAllClose(single, np.zeros(1))

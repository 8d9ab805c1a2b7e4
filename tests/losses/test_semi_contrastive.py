import numpy as np

from msakeras.losses import SemiContrastive
from msakeras.losses import semi_contrastive
from msakeras.testing import TestCase
from tests.losses import hycon_reference


class SemiContrastiveTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(3)
        self.embeddings = rng.normal(size=(5, 3, 4)).astype("float32")
        self.labels = np.asarray([1.0, 0.0, -2.0, 0.4, 0.0], "float32")

    def test_matches_numpy(self):
        for similarity in ("shifted_cosine", "cosine"):
            for margin in (0.8, 1.0, 0.5):
                with self.subTest(similarity=similarity, margin=margin):
                    self._check_against_numpy(similarity, margin)

    def _check_against_numpy(self, similarity, margin):
        terms = hycon_reference.scl_terms(self.embeddings, margin, similarity)
        values = semi_contrastive(
            self.embeddings, margin=margin, similarity=similarity
        )
        self.assertAllClose(
            values, hycon_reference.per_sample(terms, 5, 3), atol=1e-5
        )
        self.assertAllClose(
            np.mean(np.asarray(values)),
            hycon_reference.mean_over_anchors(terms),
            atol=1e-5,
        )
        summed = semi_contrastive(
            self.embeddings,
            margin=margin,
            similarity=similarity,
            anchor_reduction="sum",
        )
        self.assertAllClose(
            summed, hycon_reference.per_sample(terms, 5, 3, "sum"), atol=1e-5
        )

    def test_identical_modalities_at_margin_one_cost_nothing(self):
        same = np.repeat(self.embeddings[:, :1], 3, axis=1)
        self.assertAllClose(
            semi_contrastive(same, margin=1.0), np.zeros(5), atol=1e-6
        )
        with self.assertRaisesRegex(ValueError, "modalities"):
            semi_contrastive(self.embeddings[:, :1])

    def test_gradients_are_finite(self):
        zero_rows = self.embeddings.copy()
        zero_rows[0, 1] = 0.0
        gradient = hycon_reference.gradient(semi_contrastive, zero_rows)
        self.assertAllFinite(gradient)
        self.assertGreater(np.abs(gradient).sum(), 0.0)

    def test_loss_contract(self):
        self.run_loss_test(
            SemiContrastive,
            lambda labels, embeddings, **kwargs: semi_contrastive(
                embeddings, **kwargs
            ),
            {"margin": 0.6},
            self.labels,
            self.embeddings,
            fn_kwargs={"margin": 0.6},
        )

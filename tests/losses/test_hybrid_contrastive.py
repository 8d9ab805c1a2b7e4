import numpy as np

from msakeras.losses import HybridContrastive
from msakeras.losses import hybrid_contrastive
from msakeras.losses import hybrid_contrastive_terms
from msakeras.testing import TestCase
from tests.losses import hycon_reference


class HybridContrastiveTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(4)
        self.embeddings = rng.normal(size=(6, 3, 5)).astype("float32")
        self.labels = np.asarray([1.2, -0.4, 0.0, 2.0, -1.6, 0.0], "float32")

    def _reference(self, labels, weights, **options):
        margin = options.get("margin", 0.8)
        refinement = options.get("refinement", True)
        kind = options.get("similarity", "shifted_cosine")
        zero = options.get("zero_label_class", "non_negative")
        parts = [
            hycon_reference.iamcl_terms(
                labels, self.embeddings, refinement, kind, zero
            ),
            hycon_reference.iemcl_terms(
                labels, self.embeddings, margin, refinement, kind, zero
            ),
            hycon_reference.scl_terms(self.embeddings, margin, kind),
        ]
        per_sample = sum(
            weight * hycon_reference.per_sample(terms, 6, 3)
            for weight, terms in zip(weights, parts)
        )
        total = sum(
            weight * hycon_reference.mean_over_anchors(terms)
            for weight, terms in zip(weights, parts)
        )
        return per_sample, total

    def test_matches_numpy(self):
        cases = [
            ((1.0, 1.0, 1.0), {}),
            (
                (0.5, 2.0, 0.0),
                {
                    "margin": 1.0,
                    "refinement": False,
                    "similarity": "cosine",
                    "zero_label_class": "exclude",
                },
            ),
            ((0.0, 0.0, 0.0), {"zero_label_class": "non_positive"}),
        ]
        for weights, options in cases:
            with self.subTest(weights=weights, options=options):
                self._check_against_numpy(weights, options)

    def _check_against_numpy(self, weights, options):
        per_sample, total = self._reference(self.labels, weights, **options)
        values = hybrid_contrastive(
            self.labels,
            self.embeddings,
            intra_modal_weight=weights[0],
            inter_modal_weight=weights[1],
            semi_contrastive_weight=weights[2],
            **options,
        )
        self.assertAllClose(values, per_sample, atol=1e-5, rtol=1e-5)
        self.assertAllClose(np.mean(np.asarray(values)), total, atol=1e-5)

    def test_single_class_batch(self):
        labels = np.abs(self.labels) + 0.1
        per_sample, _ = self._reference(labels, (1.0, 1.0, 1.0))
        values = hybrid_contrastive(labels, self.embeddings)
        self.assertAllFinite(values)
        self.assertAllClose(values, per_sample, atol=1e-5, rtol=1e-5)
        gradient = hycon_reference.gradient(
            lambda x: hybrid_contrastive(labels, x), self.embeddings
        )
        self.assertAllFinite(gradient)

    def test_terms_match_the_single_losses(self):
        from msakeras import losses

        terms = hybrid_contrastive_terms(self.labels, self.embeddings)
        self.assertEqual(set(terms), {"intra_modal", "inter_modal", "semi"})
        self.assertAllClose(
            terms["intra_modal"],
            losses.intra_modal_contrastive(self.labels, self.embeddings),
        )
        self.assertAllClose(
            terms["inter_modal"],
            losses.inter_modal_contrastive(self.labels, self.embeddings),
        )
        self.assertAllClose(
            terms["semi"], losses.semi_contrastive(self.embeddings)
        )

    def test_gradients_are_finite(self):
        gradient = hycon_reference.gradient(
            lambda x: hybrid_contrastive(self.labels, x), self.embeddings
        )
        self.assertAllFinite(gradient)
        self.assertGreater(np.abs(gradient).sum(), 0.0)

    def test_loss_contract(self):
        self.run_loss_test(
            HybridContrastive,
            hybrid_contrastive,
            {"inter_modal_weight": 0.5, "margin": 0.7},
            self.labels,
            self.embeddings,
            fn_kwargs={"inter_modal_weight": 0.5, "margin": 0.7},
        )

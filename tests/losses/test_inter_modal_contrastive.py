import itertools

import numpy as np

from msakeras.losses import InterModalContrastive
from msakeras.losses import inter_modal_contrastive
from msakeras.testing import TestCase
from tests.losses import hycon_reference

LABELS = {
    "mixed_with_zeros": [1.2, -0.4, 0.0, 2.0, -1.6, 0.0],
    "single_class": [0.4, 1.0, 2.2, 0.2, 1.4, 3.0],
    "lonely_negative": [1.0, 2.0, -1.0, 0.6, 1.4, 0.0],
}


class InterModalContrastiveTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(1)
        self.embeddings = rng.normal(size=(6, 3, 4)).astype("float32")

    def test_matches_numpy(self):
        for labels, *options in itertools.product(
            LABELS.values(),
            ("non_negative", "non_positive", "exclude"),
            ("shifted_cosine", "cosine"),
            (True, False),
        ):
            with self.subTest(labels=labels, options=options):
                labels = np.asarray(labels, "float32")
                self._check_against_numpy(labels, *options)

    def _check_against_numpy(
        self, labels, zero_label_class, similarity, refinement
    ):
        options = {
            "margin": 0.7,
            "refinement": refinement,
            "similarity": similarity,
            "zero_label_class": zero_label_class,
        }
        terms = hycon_reference.iemcl_terms(
            labels,
            self.embeddings,
            margin=0.7,
            refinement=refinement,
            kind=similarity,
            zero_label_class=zero_label_class,
        )
        values = inter_modal_contrastive(labels, self.embeddings, **options)
        self.assertAllClose(
            values,
            hycon_reference.per_sample(terms, 6, 3),
            atol=1e-5,
            rtol=1e-5,
        )
        self.assertAllClose(
            np.mean(np.asarray(values)),
            hycon_reference.mean_over_anchors(terms),
            atol=1e-5,
        )
        summed = inter_modal_contrastive(
            labels, self.embeddings, anchor_reduction="sum", **options
        )
        self.assertAllClose(
            summed,
            hycon_reference.per_sample(terms, 6, 3, "sum"),
            atol=1e-5,
            rtol=1e-5,
        )

    def test_same_sample_modalities_are_not_positives(self):
        # Two samples of one class and one of the other: each anchor's
        # positives are only the other same-class sample's other
        # modalities; moving the anchor's own sample changes nothing else.
        labels = np.asarray([1.0, 2.0, -1.0], "float32")
        embeddings = self.embeddings[:3].copy()
        terms = hycon_reference.iemcl_terms(labels, embeddings)
        self.assertEqual(sorted({i for i, _ in terms}), [0, 1])
        self.assertAllClose(
            inter_modal_contrastive(labels, embeddings),
            hycon_reference.per_sample(terms, 3, 3),
            atol=1e-5,
        )

    def test_four_modalities(self):
        rng = np.random.default_rng(2)
        embeddings = rng.normal(size=(5, 4, 3)).astype("float32")
        labels = np.asarray([1.0, -1.0, 0.5, -2.0, 0.0], "float32")
        terms = hycon_reference.iemcl_terms(labels, embeddings)
        self.assertAllClose(
            inter_modal_contrastive(labels, embeddings),
            hycon_reference.per_sample(terms, 5, 4),
            atol=1e-5,
        )

    def test_gradients_are_finite(self):
        for labels, similarity in itertools.product(
            ("mixed_with_zeros", "single_class"), ("shifted_cosine", "cosine")
        ):
            labels = np.asarray(LABELS[labels], "float32")
            gradient = hycon_reference.gradient(
                lambda x: inter_modal_contrastive(
                    labels, x, similarity=similarity
                ),
                self.embeddings,
            )
            self.assertAllFinite(gradient)
            self.assertGreater(np.abs(gradient).sum(), 0.0)

    def test_single_class_is_finite(self):
        labels = np.asarray(LABELS["single_class"], "float32")
        values = inter_modal_contrastive(
            labels, self.embeddings, refinement=False
        )
        self.assertAllClose(values, -np.ones(6), atol=1e-6)

    def test_loss_contract(self):
        labels = np.asarray(LABELS["mixed_with_zeros"], "float32")
        self.run_loss_test(
            InterModalContrastive,
            inter_modal_contrastive,
            {"margin": 0.9},
            labels,
            self.embeddings,
            fn_kwargs={"margin": 0.9},
        )

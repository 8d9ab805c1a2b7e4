import itertools

import numpy as np

from msakeras.losses import IntraModalContrastive
from msakeras.losses import intra_modal_contrastive
from msakeras.testing import TestCase
from tests.losses import hycon_reference

LABELS = {
    "mixed_with_zeros": [1.2, -0.4, 0.0, 2.0, -1.6, 0.0],
    "single_class": [0.4, 1.0, 2.2, 0.2, 1.4, 3.0],
    "lonely_negative": [1.0, 2.0, -1.0, 0.6, 1.4, 0.0],
}


class IntraModalContrastiveTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
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
            "refinement": refinement,
            "similarity": similarity,
            "zero_label_class": zero_label_class,
        }
        terms = hycon_reference.iamcl_terms(
            labels,
            self.embeddings,
            refinement=refinement,
            kind=similarity,
            zero_label_class=zero_label_class,
        )
        values = intra_modal_contrastive(labels, self.embeddings, **options)
        self.assertAllClose(
            values,
            hycon_reference.per_sample(terms, 6, 3),
            atol=1e-5,
            rtol=1e-5,
        )
        # The batch mean is the mean over anchors with a positive.
        self.assertAllClose(
            np.mean(np.asarray(values)),
            hycon_reference.mean_over_anchors(terms),
            atol=1e-5,
        )
        summed = intra_modal_contrastive(
            labels, self.embeddings, anchor_reduction="sum", **options
        )
        self.assertAllClose(
            summed,
            hycon_reference.per_sample(terms, 6, 3, "sum"),
            atol=1e-5,
            rtol=1e-5,
        )

    def test_single_class_is_finite_with_zero_ratio_gradient(self):
        labels = np.asarray(LABELS["single_class"], "float32")
        values = intra_modal_contrastive(
            labels, self.embeddings, refinement=False
        )
        # Ratio exactly 1 for every anchor: the loss is the constant -1.
        self.assertAllClose(values, -np.ones(6), atol=1e-6)
        gradient = hycon_reference.gradient(
            lambda x: intra_modal_contrastive(labels, x, refinement=False),
            self.embeddings,
        )
        self.assertAllClose(gradient, np.zeros_like(gradient), atol=1e-7)

    def test_gradients_are_finite(self):
        for labels, similarity in itertools.product(
            ("mixed_with_zeros", "single_class"), ("shifted_cosine", "cosine")
        ):
            labels = np.asarray(LABELS[labels], "float32")
            gradient = hycon_reference.gradient(
                lambda x: intra_modal_contrastive(
                    labels, x, similarity=similarity
                ),
                self.embeddings,
            )
            self.assertAllFinite(gradient)
            self.assertGreater(np.abs(gradient).sum(), 0.0)

    def test_no_anchor_with_positive_gives_zeros(self):
        labels = np.asarray([0.0, 0.0, 1.0, -1.0, 0.0, 0.0], "float32")
        values = intra_modal_contrastive(
            labels, self.embeddings, zero_label_class="exclude"
        )
        self.assertAllClose(values, np.zeros(6))
        zero_rows = self.embeddings.copy()
        zero_rows[0] = 0.0
        self.assertAllFinite(intra_modal_contrastive(labels, zero_rows))

    def test_loss_contract(self):
        labels = np.asarray(LABELS["mixed_with_zeros"], "float32")
        self.run_loss_test(
            IntraModalContrastive,
            intra_modal_contrastive,
            {"refinement": False},
            labels,
            self.embeddings,
            fn_kwargs={"refinement": False},
        )

    def test_bad_options(self):
        for kwargs, argument in [
            ({"similarity": "dot"}, "similarity"),
            ({"zero_label_class": "neutral"}, "zero_label_class"),
            ({"anchor_reduction": "max"}, "anchor_reduction"),
        ]:
            with self.assertRaisesRegex(ValueError, argument):
                IntraModalContrastive(**kwargs)

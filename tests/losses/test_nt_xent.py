import numpy as np

from msakeras import losses as nt_xent_module
from msakeras.testing import test_case


def numpy_pair_losses(embeddings, positive, negative, temperature):
    """pytorch-metric-learning NTXentLoss pair losses, one pair at a time."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    logits = unit @ unit.T / temperature
    losses = np.zeros(logits.shape)
    for a, p in zip(*np.nonzero(positive)):
        negatives = logits[a][negative[a].astype(bool)]
        max_val = max(logits[a, p], negatives.max(initial=-np.inf))
        numerator = np.exp(logits[a, p] - max_val)
        denominator = np.exp(negatives - max_val).sum() + numerator
        losses[a, p] = -np.log(numerator / denominator + 1e-38)
    return losses


def numpy_nt_xent(anchor, positive, temperature):
    embeddings = np.concatenate([anchor, positive])
    ids = np.concatenate([np.arange(len(anchor))] * 2)
    same = ids[:, None] == ids[None, :]
    pos = same & ~np.eye(len(ids), dtype=bool)
    losses = numpy_pair_losses(embeddings, pos, ~same, temperature)
    per_row = losses.sum(axis=1)
    # PML's MeanReducer averages the 2B pair losses.
    return 0.5 * (per_row[: len(anchor)] + per_row[len(anchor) :])


class NTXentTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.anchor = rng.normal(size=(4, 6)).astype("float32")
        self.positive = rng.normal(size=(4, 6)).astype("float32")

    def test_loss_basics(self):
        self.run_loss_test(
            nt_xent_module.NTXent,
            nt_xent_module.nt_xent,
            {"temperature": 0.5},
            self.anchor,
            self.positive,
            fn_kwargs={"temperature": 0.5},
        )

    def test_matches_numpy_pml_reference(self):
        for temperature in (0.5, 0.1):
            expected = numpy_nt_xent(self.anchor, self.positive, temperature)
            actual = nt_xent_module.nt_xent(
                self.anchor, self.positive, temperature=temperature
            )
            self.assertAllClose(actual, expected, atol=1e-5, rtol=1e-5)
            self.assertAllClose(
                np.mean(expected),
                np.mean(
                    numpy_pair_losses(
                        np.concatenate([self.anchor, self.positive]),
                        *_simclr_masks(4),
                        temperature,
                    ).sum()
                    / 8
                ),
                atol=1e-6,
            )

    def test_masked_pairs_match_numpy(self):
        rng = np.random.default_rng(1)
        embeddings = rng.normal(size=(7, 5)).astype("float32")
        positive = rng.random((7, 7)) < 0.3
        negative = (rng.random((7, 7)) < 0.4) & ~positive
        negative[2] = False  # an anchor without negatives: loss 0
        np.fill_diagonal(positive, False)
        expected = numpy_pair_losses(embeddings, positive, negative, 0.5)
        actual = nt_xent_module.masked_nt_xent(
            embeddings, positive, negative, 0.5
        )
        self.assertAllClose(actual, expected, atol=1e-5, rtol=1e-5)
        self.assertAllClose(np.asarray(actual)[2], np.zeros(7), atol=1e-7)

    def test_zero_rows_are_finite(self):
        zeros = np.zeros((3, 4), "float32")
        self.assertAllFinite(nt_xent_module.nt_xent(zeros, zeros))


def _simclr_masks(batch):
    ids = np.concatenate([np.arange(batch)] * 2)
    same = ids[:, None] == ids[None, :]
    return same & ~np.eye(2 * batch, dtype=bool), ~same

import numpy as np
from absl.testing import parameterized

from msakeras import metrics as scores_module
from msakeras.testing import test_case

MOSI_LABELS = np.array([-2.5, -0.5, 0.0, 0.5, 1.5, 2.5])
MOSI_PREDICTIONS = np.array([-1.5, 0.5, -0.2, 0.0, 2.5, 3.7])


def _pearson(x, y):
    x = x - x.mean()
    y = y - y.mean()
    return float(np.sum(x * y) / np.sqrt(np.sum(x * x) * np.sum(y * y)))


class WeightedF1ScoreTest(test_case.TestCase):
    def test_hand_value(self):
        # Class 1: P=1, R=1/2, F1=2/3; class 0: P=2/3, R=1, F1=4/5;
        # weights 2 and 2.
        score = scores_module.weighted_f1_score([1, 1, 0, 0], [1, 0, 0, 0])
        self.assertAllClose(score, (2 / 3 + 4 / 5) / 2)

    def test_class_only_predicted_has_zero_weight(self):
        score = scores_module.weighted_f1_score([0, 0], [1, 0])
        self.assertAllClose(score, 2 / 3)


class SentimentScoresTest(test_case.TestCase):
    def test_mosi_hand_values(self):
        scores = scores_module.sentiment_scores(
            MOSI_PREDICTIONS, MOSI_LABELS, dataset="mosi"
        )
        self.assertEqual(tuple(scores), scores_module.MOSI_KEYS)
        expected = {
            "Has0_acc_2": 4 / 6,
            "Has0_F1_score": (0.75 * 4 + 0.5 * 2) / 6,
            # The label-0 sample is dropped; p = 0.0 counts as negative.
            "Non0_acc_2": 3 / 5,
            "Non0_F1_score": (2 / 3 * 3 + 0.5 * 2) / 5,
            # Half-to-even: -2.5 -> -2, -0.5 -> 0, 0.5 -> 0, 2.5 -> 2; the
            # only miss is 2.5 vs 3.7 (clipped to 3).
            "Mult_acc_7": 5 / 6,
            "Mult_acc_5": 1.0,
            "MAE": 4.9 / 6,
            "Corr": _pearson(MOSI_PREDICTIONS, MOSI_LABELS),
        }
        self.assertAllClose(scores, expected, atol=1e-12)

    def test_half_to_even_differs_from_round_half_up(self):
        labels = np.array([0.5, 1.5, 2.5, -0.5])
        predictions = np.array([0.0, 2.0, 2.0, 0.0])
        scores = scores_module.sentiment_scores(predictions, labels)
        # floor(x + 0.5) would give 1, 2, 3, 0: only two matches.
        self.assertEqual(scores["Mult_acc_7"], 1.0)

    @parameterized.named_parameters(
        ("synthetic", "synthetic_mosei"), ("upper", "MOSEI")
    )
    def test_dataset_aliases(self, dataset):
        self.assertEqual(
            scores_module.sentiment_scores(
                MOSI_PREDICTIONS, MOSI_LABELS, dataset=dataset
            ),
            scores_module.sentiment_scores(MOSI_PREDICTIONS, MOSI_LABELS),
        )

    def test_sims_hand_values(self):
        labels = np.array([-1.0, -0.7, -0.1, 0.0, 0.1, 0.7, 1.0])
        predictions = np.array([-1.5, -0.69, -0.1, 0.05, 0.1000001, 0.7, 2.0])
        scores = scores_module.sentiment_scores(
            predictions, labels, dataset="sims"
        )
        self.assertEqual(tuple(scores), scores_module.SIMS_KEYS)
        clipped = np.clip(predictions, -1, 1)
        expected = {
            "Mult_acc_2": 6 / 7,  # 0.05 is positive, 0.0 is not
            "Mult_acc_3": 6 / 7,  # -0.1 and 0.1 close their bins
            "Mult_acc_5": 5 / 7,  # -0.69 and 0.1000001 change bins
            "F1_score": 6 / 7,
            "MAE": np.mean(np.abs(clipped - labels)),
            "Corr": _pearson(clipped, labels),
        }
        self.assertAllClose(scores, expected, atol=1e-12)

    def test_sims_bins_are_right_closed(self):
        values = np.array([-1.0, -0.7, -0.69, -0.1, 0.0, 0.1, 0.7, 0.71])
        self.assertEqual(
            scores_module.sims_bins(values, 5).tolist(),
            [0, 0, 1, 1, 2, 2, 3, 4],
        )
        self.assertEqual(
            scores_module.sims_bins(values, 2).tolist(),
            [0, 0, 0, 0, 0, 1, 1, 1],
        )

    def test_mag_bert_protocol(self):
        scores = scores_module.sentiment_scores(
            MOSI_PREDICTIONS, MOSI_LABELS, protocol="mag_bert"
        )
        kept = MOSI_LABELS != 0
        expected = {
            "Mult_acc_7": 5 / 6,
            "Acc_2": 4 / 5,  # p = 0.0 counts as non-negative here
            "F1_score": (6 / 7 * 3 + 2 / 3 * 2) / 5,
            "MAE": 4.7 / 5,
            "Corr": _pearson(MOSI_PREDICTIONS[kept], MOSI_LABELS[kept]),
        }
        self.assertAllClose(scores, expected, atol=1e-12)

    def test_round_to_and_column_shapes(self):
        scores = scores_module.sentiment_scores(
            MOSI_PREDICTIONS[:, None], MOSI_LABELS[:, None], round_to=4
        )
        self.assertEqual(scores["MAE"], 0.8167)
        self.assertEqual(scores["Has0_acc_2"], 0.6667)

    def test_degenerate_cases_return_nan(self):
        labels = np.zeros(4)
        scores = scores_module.sentiment_scores(np.ones(4), labels)
        self.assertTrue(np.isnan(scores["Corr"]))
        self.assertTrue(np.isnan(scores["Non0_acc_2"]))
        self.assertTrue(np.isnan(scores["Non0_F1_score"]))
        self.assertEqual(scores["Has0_acc_2"], 1.0)
        self.assertEqual(scores["MAE"], 1.0)

    def test_invalid_inputs(self):
        cases = (
            ("shape", np.zeros(3), np.zeros(4), {}, "same N"),
            ("empty", np.zeros(0), np.zeros(0), {}, "empty"),
            ("nan_label", np.zeros(2), np.array([0.0, np.nan]), {}, "finite"),
            (
                "dataset",
                np.zeros(2),
                np.zeros(2),
                {"dataset": "iemocap"},
                "iemocap",
            ),
            ("protocol", np.zeros(2), np.zeros(2), {"protocol": "x"}, "'x'"),
            (
                "sims_mag_bert",
                np.zeros(2),
                np.zeros(2),
                {"dataset": "sims", "protocol": "mag_bert"},
                "MOSI/MOSEI",
            ),
        )
        for name, predictions, labels, kwargs, message in cases:
            with self.subTest(name):
                with self.assertRaisesRegex(ValueError, message):
                    scores_module.sentiment_scores(
                        predictions, labels, **kwargs
                    )

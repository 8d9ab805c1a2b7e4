import numpy as np
from absl.testing import parameterized

from msakeras.metrics import ridge_baselines
from msakeras.testing import test_case


class RidgeBaselinesTest(test_case.TestCase):
    @parameterized.named_parameters(("primal", 3), ("wide", 50))
    def test_ridge_matches_normal_equations(self, width):
        generator = np.random.default_rng(0)
        features = generator.normal(size=(20, width))
        labels = generator.normal(size=20)
        test_features = generator.normal(size=(5, width))
        predictions = ridge_baselines.ridge_fit_predict(
            features, labels, test_features, alpha=2.0
        )
        mean, scale = features.mean(0), features.std(0)
        standard = (features - mean) / scale
        weights = np.linalg.solve(
            standard.T @ standard + 2.0 * np.eye(width),
            standard.T @ (labels - labels.mean()),
        )
        expected = ((test_features - mean) / scale) @ weights + labels.mean()
        self.assertAllClose(predictions, expected, atol=1e-8)

    def test_auto_alpha_runs(self):
        generator = np.random.default_rng(0)
        features = generator.normal(size=(30, 4))
        labels = features @ np.array([1.0, 0.0, -1.0, 0.5])
        predictions = ridge_baselines.ridge_fit_predict(
            features, labels, features, alpha="auto"
        )
        self.assertGreater(np.corrcoef(predictions, labels)[0, 1], 0.99)

    def test_frame_statistics_ignore_padding(self):
        features = np.array([[[1.0], [3.0], [100.0]]])
        mask = np.array([[1, 1, 0]])
        self.assertAllClose(
            ridge_baselines.frame_statistics(features, mask),
            np.array([[2.0, 1.0]]),
        )

    def test_text_features_mean_one_hot(self):
        arrays = {
            "text_token_ids": np.array([[101, 7, 7, 102, 0]]),
            "text_padding_mask": np.array([[1, 1, 1, 1, 0]]),
        }
        vocabulary = np.array([7, 101, 102])
        self.assertAllClose(
            ridge_baselines.text_features(arrays, vocabulary),
            np.array([[0.5, 0.25, 0.25]]),
        )

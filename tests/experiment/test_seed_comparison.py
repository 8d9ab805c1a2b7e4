import json
import math
import os

import numpy as np
import pandas as pd
from scipy import stats

from msakeras.compare import __main__ as compare_cli
from msakeras.experiment import compare_runs
from msakeras.experiment import load_run_scores
from msakeras.experiment import paired_statistics
from msakeras.testing import TestCase

SEEDS = [1111, 1112, 1113, 1114, 1115]
MAE_A = [0.712, 0.705, 0.731, 0.698, 0.720]
MAE_B = [0.690, 0.701, 0.702, 0.689, 0.711]
CORR_A = [0.781, 0.790, 0.770, 0.795, 0.784]
CORR_B = [0.792, 0.788, 0.801, 0.799, 0.790]


def write_run(directory, seeds, mae, corr, extra_seed=None):
    for seed, m, c in zip(seeds, mae, corr):
        folder = os.path.join(directory, f"seed_{seed}")
        os.makedirs(folder)
        with open(os.path.join(folder, "run.json"), "w") as handle:
            json.dump({"seed": seed, "test": {"MAE": m, "Corr": c}}, handle)
    return directory


class PairedStatisticsTest(TestCase):
    def test_matches_scipy_and_numpy_formulas(self):
        result = paired_statistics(MAE_A, MAE_B)
        t_test = stats.ttest_rel(MAE_B, MAE_A)
        wilcoxon = stats.wilcoxon(MAE_B, MAE_A)
        self.assertEqual(result["n"], 5)
        self.assertAlmostEqual(result["t_statistic"], t_test.statistic, 12)
        self.assertAlmostEqual(result["t_p_value"], t_test.pvalue, 12)
        self.assertAlmostEqual(
            result["wilcoxon_statistic"], wilcoxon.statistic, 12
        )
        self.assertAlmostEqual(result["wilcoxon_p_value"], wilcoxon.pvalue, 12)
        # Independent NumPy check of the formulas.
        differences = np.subtract(MAE_B, MAE_A)
        t = differences.mean() / (differences.std(ddof=1) / math.sqrt(5))
        self.assertAlmostEqual(result["t_statistic"], t, 10)
        self.assertAlmostEqual(result["mean_difference"], differences.mean())
        ranks = stats.rankdata(np.abs(differences))
        w_plus = ranks[differences > 0].sum()
        w_minus = ranks[differences < 0].sum()
        self.assertEqual(result["wilcoxon_statistic"], min(w_plus, w_minus))
        # All five differences negative: exact two-sided p = 2 / 2**5.
        self.assertAlmostEqual(result["wilcoxon_p_value"], 2 / 32, 12)

    def test_undefined_cases_are_nan(self):
        single = paired_statistics([0.7], [0.6])
        self.assertTrue(math.isnan(single["t_p_value"]))
        same = paired_statistics([0.7, 0.8], [0.7, 0.8])
        self.assertTrue(math.isnan(same["wilcoxon_p_value"]))
        with self.assertRaises(ValueError):
            paired_statistics([0.1, 0.2], [0.1])


class CompareRunsTest(TestCase):
    def test_table_pairs_matching_seeds_only(self):
        run_a = write_run(
            os.path.join(self.temp_dir, "a"), SEEDS, MAE_A, CORR_A
        )
        # Run B lacks seed 1115 and has an extra 2000: 4 pairs.
        run_b = write_run(
            os.path.join(self.temp_dir, "b"),
            SEEDS[:4] + [2000],
            MAE_B[:4] + [0.5],
            CORR_B[:4] + [0.9],
        )
        scores_a, scores_b = load_run_scores(run_a), load_run_scores(run_b)
        self.assertEqual(sorted(scores_a), SEEDS)
        table = compare_runs(scores_a, scores_b, names=("a", "b"))
        self.assertEqual(list(table.index), ["MAE", "Corr"])
        self.assertAlmostEqual(table.loc["MAE", "a mean"], np.mean(MAE_A))
        self.assertAlmostEqual(table.loc["MAE", "a std"], np.std(MAE_A, ddof=1))
        values_b = MAE_B[:4] + [0.5]
        self.assertAlmostEqual(table.loc["MAE", "b mean"], np.mean(values_b))
        self.assertEqual(table.loc["MAE", "pairs"], 4)
        expected = stats.ttest_rel(CORR_B[:4], CORR_A[:4])
        self.assertAlmostEqual(table.loc["Corr", "t"], expected.statistic, 12)
        self.assertAlmostEqual(table.loc["Corr", "t p"], expected.pvalue, 12)
        expected = stats.wilcoxon(CORR_B[:4], CORR_A[:4])
        self.assertAlmostEqual(table.loc["Corr", "Wilcoxon p"],
                               expected.pvalue, 12)  # fmt: skip

    def test_command_line_writes_csv_and_markdown(self):
        run_a = write_run(
            os.path.join(self.temp_dir, "mmim", "runs"), SEEDS, MAE_A, CORR_A
        )
        run_b = write_run(
            os.path.join(self.temp_dir, "hycon", "runs"), SEEDS, MAE_B, CORR_B
        )
        csv_path = os.path.join(self.temp_dir, "compare.csv")
        markdown_path = os.path.join(self.temp_dir, "compare.md")
        code = compare_cli.main(
            [run_a, run_b, "--csv", csv_path, "--markdown", markdown_path]
        )
        self.assertEqual(code, 0)
        table = pd.read_csv(csv_path, index_col="metric")
        self.assertAlmostEqual(
            table.loc["MAE", "t p"], stats.ttest_rel(MAE_B, MAE_A).pvalue, 10
        )
        self.assertIn("mmim mean", table.columns)
        with open(markdown_path) as handle:
            text = handle.read()
        self.assertIn("mmim mean ± std", text)
        self.assertIn(f"{np.mean(MAE_A):.4f} ± {np.std(MAE_A, ddof=1):.4f}",
                      text)  # fmt: skip
        self.assertEqual(
            compare_cli.main([run_a, os.path.join(self.temp_dir, "none")]), 1
        )


class UndefinedAndMultiplicityTest(TestCase):
    def test_constant_differences_are_undefined_not_infinite(self):
        # Two seeds, both B - A = -0.01: zero variance, t would be -inf.
        result = paired_statistics([0.71, 0.72], [0.70, 0.71])
        self.assertTrue(math.isnan(result["t_statistic"]))
        self.assertTrue(math.isnan(result["t_p_value"]))
        self.assertAlmostEqual(result["mean_difference"], -0.01, 12)

    def test_holm_matches_hand_computation(self):
        from msakeras.experiment.seed_comparison import holm

        p = np.array([0.04, 0.01, np.nan, 0.03, 0.20])
        # m = 4 defined: sorted 0.01, 0.03, 0.04, 0.20 scaled by 4, 3, 2, 1
        # -> 0.04, 0.09, 0.08, 0.20; running max -> 0.04, 0.09, 0.09, 0.20.
        expected = np.array([0.09, 0.04, np.nan, 0.09, 0.20])
        np.testing.assert_allclose(holm(p), expected, rtol=1e-12)
        np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])

    def test_table_has_holm_columns_and_warns_for_few_pairs(self):
        scores_a = {
            s: {"MAE": m, "Corr": c} for s, m, c in zip(SEEDS, MAE_A, CORR_A)
        }
        scores_b = {
            s: {"MAE": m, "Corr": c} for s, m, c in zip(SEEDS, MAE_B, CORR_B)
        }
        table = compare_runs(scores_a, scores_b)
        raw = table["t p"].to_numpy()
        order = np.argsort(raw)
        expected = np.empty(2)
        expected[order[0]] = min(1, 2 * raw[order[0]])
        expected[order[1]] = max(expected[order[0]], min(1, raw[order[1]]))
        np.testing.assert_allclose(table["t p (Holm)"], expected, rtol=1e-12)
        few_a = {s: scores_a[s] for s in SEEDS[:3]}
        few_b = {s: scores_b[s] for s in SEEDS[:3]}
        with self.assertWarnsRegex(UserWarning, "Only 3 paired seeds"):
            compare_runs(few_a, few_b)

    def test_command_line_says_undefined(self):
        import contextlib
        import io

        root = self.temp_dir
        run_a = write_run(
            os.path.join(root, "a"), SEEDS[:2], [0.71, 0.72], [0.8, 0.8]
        )
        run_b = write_run(
            os.path.join(root, "b"), SEEDS[:2], [0.70, 0.71], [0.81, 0.81]
        )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            compare_cli.main([run_a, run_b])
        self.assertIn("undefined", out.getvalue())
        self.assertNotIn("inf", out.getvalue())
        self.assertIn("Only 2 paired seeds", err.getvalue())

import os

import numpy as np

from msakeras.metrics import results_table
from msakeras.testing import test_case


class ResultsTableTest(test_case.TestCase):
    def test_summarize_seeds(self):
        table = results_table.summarize_seeds(
            [{"MAE": 1.0, "Corr": 0.5}, {"MAE": 2.0, "Corr": 0.7}],
            seeds=[1111, 1112],
        )
        self.assertEqual(list(table.index), ["1111", "1112", "mean", "std"])
        self.assertEqual(list(table.columns), ["MAE", "Corr"])
        self.assertAllClose(table.loc["mean", "MAE"], 1.5)
        self.assertAllClose(table.loc["std", "MAE"], np.std([1, 2], ddof=1))
        self.assertAllClose(
            table.loc["std", "Corr"], np.std([0.5, 0.7], ddof=1)
        )

    def test_markdown_and_files(self):
        table = results_table.summarize_seeds([{"MAE": 1.23456}])
        text = results_table.to_markdown(table)
        self.assertIn("1.2346", text)
        self.assertIn("mean", text)
        csv_path, markdown_path = results_table.write_summary(
            table, os.path.join(self.temp_dir, "runs")
        )
        self.assertTrue(os.path.exists(csv_path))
        with open(markdown_path) as file:
            self.assertIn("MAE", file.read())

    def test_one_seed_has_no_std_row(self):
        table = results_table.summarize_seeds([{"MAE": 0.7}], seeds=[1111])
        self.assertEqual(list(table.index), ["1111", "mean"])
        self.assertFalse(table.isna().any().any())

    def test_mmsa_convention_table(self):
        values = [0.70, 0.72, 0.77]
        table = results_table.summarize_seeds(
            [{"MAE": v} for v in values], seeds=[1, 2, 3]
        )
        mmsa = results_table.mmsa_table(table)
        expected = f"{np.mean(values) * 100:.2f} ± {np.std(values) * 100:.2f}"
        self.assertEqual(mmsa.loc["mean ± std (×100)", "MAE"], expected)
        _, markdown_path = results_table.write_summary(table, self.temp_dir)
        with open(markdown_path, encoding="utf-8") as file:
            text = file.read()
        self.assertIn("×100", text.splitlines()[0])
        self.assertIn("np.std", text.splitlines()[0])
        self.assertIn(expected, text)
        # The CSV keeps fractions.
        with open(os.path.join(self.temp_dir, "summary.csv")) as file:
            self.assertIn("0.7", file.read())

    def test_mismatched_seeds(self):
        with self.assertRaisesRegex(ValueError, "2 score dicts but 1 seeds"):
            results_table.summarize_seeds([{}, {}], seeds=[1])

"""`recipes/common.train_seeds` with a tiny model: receipt and sealed test."""

import json
import os

import pandas as pd

from msakeras.experiment import RECEIPT_FIELDS
from msakeras.experiment import HeldOutTestSplit
from msakeras.experiment import TestSplitAccessError
from msakeras.experiment import file_sha256
from msakeras.testing import TestCase
from recipes import common
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model

SETTINGS = {"mosi": {"batch_size": 8, "epochs": 3, "patience": 5}}


class RecipeFlowTest(TestCase):
    def test_train_seeds_writes_receipt_and_reads_test_once(self):
        path = tiny_data(self.temp_dir, num=32)
        output = os.path.join(self.temp_dir, "runs")
        args = common.base_parser("tiny", "").parse_args(
            ["--data", path, "--seeds", "7", "--output-dir", output,
             "--verbose", "0"]
        )  # fmt: skip
        args = common.finish_args(args, "tiny", SETTINGS, {})
        reads = []
        original_read = HeldOutTestSplit.read

        def counting_read(split, sealed):
            reads.append(sealed.best_epoch)
            return original_read(split, sealed)

        HeldOutTestSplit.read = counting_read
        try:
            scores, baselines = common.train_seeds(
                args, lambda args: tiny_model()
            )
        finally:
            HeldOutTestSplit.read = original_read
        self.assertEqual(len(reads), 1)  # one seed, one test read
        self.assertIn("all", baselines)
        with open(os.path.join(output, "seed_7", "run.json")) as handle:
            record = json.load(handle)
        for field in RECEIPT_FIELDS:
            self.assertIn(field, record)
        self.assertEqual(record["seed"], 7)
        self.assertEqual(record["data"]["sha256"], file_sha256(path))
        self.assertEqual(record["hyperparameters"]["batch_size"], 8)
        history = pd.read_csv(os.path.join(output, "seed_7", "history.csv"))
        selection = record["selection"]
        self.assertEqual(selection["monitor"], "val_mae")
        self.assertEqual(
            selection["best_epoch"], int(history["val_mae"].idxmin()) + 1
        )
        self.assertAlmostEqual(
            selection["best_value"], history["val_mae"].min(), 5
        )
        self.assertEqual(
            selection["checkpoint_sha256"],
            file_sha256(os.path.join(output, "seed_7", "model.keras")),
        )
        self.assertEqual(record["test"], scores[7])

    def test_recipe_datasets_hold_test_behind_the_seal(self):
        path = tiny_data(self.temp_dir)
        args = common.base_parser("tiny", "").parse_args(["--data", path])
        args = common.finish_args(args, "tiny", SETTINGS, {})
        train, valid, test = common.make_datasets(args, tiny_model(), 1)
        self.assertEqual(valid.split, "valid")
        self.assertIsInstance(test, HeldOutTestSplit)
        with self.assertRaises(TestSplitAccessError):
            test.read(common.SELECTION)  # a rule, not a sealed selection
        with self.assertRaises(TestSplitAccessError):
            len(test)

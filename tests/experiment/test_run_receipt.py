import json
import os
import shutil

import keras

import msakeras
from msakeras.experiment import RECEIPT_FIELDS
from msakeras.experiment import SelectionRule
from msakeras.experiment import file_sha256
from msakeras.experiment import run_receipt
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data


class RunReceiptTest(TestCase):
    def test_receipt_fields_exist_and_are_json(self):
        path = tiny_data(self.temp_dir)
        receipt = run_receipt(
            path,
            1111,
            {"batch_size": 8, "learning_rate": 1e-3},
            SelectionRule("val_mae", "min"),
            dataset="synthetic_mosi",
        )
        for field in RECEIPT_FIELDS:
            self.assertIn(field, receipt)
        self.assertEqual(receipt["seed"], 1111)
        self.assertEqual(receipt["backend"], keras.config.backend())
        self.assertTrue(receipt["device"])
        self.assertEqual(receipt["hyperparameters"]["batch_size"], 8)
        self.assertEqual(receipt["selection"]["monitor"], "val_mae")
        self.assertEqual(receipt["selection"]["mode"], "min")
        self.assertIn("keras", receipt["versions"])
        self.assertIn("numpy", receipt["versions"])
        self.assertEqual(len(receipt["data"]["sha256"]), 64)
        self.assertEqual(receipt["data"]["bytes"], os.path.getsize(path))
        # This test runs from a git checkout: the commit is recorded.
        self.assertIsNotNone(receipt["git"])
        self.assertRegex(receipt["git"]["commit"], r"^[0-9a-f]{40}$")
        json.dumps(receipt)  # JSON-ready as written to run.json

    def test_data_hash_is_sha256_of_the_bytes_and_changes_with_data(self):
        import hashlib

        path = tiny_data(self.temp_dir)
        with open(path, "rb") as handle:
            expected = hashlib.sha256(handle.read()).hexdigest()
        self.assertEqual(file_sha256(path), expected)
        rule = SelectionRule()
        first = run_receipt(path, 1, {}, rule)["data"]["sha256"]
        self.assertEqual(first, expected)
        # Same content elsewhere: same hash.
        copy = os.path.join(self.temp_dir, "copy.h5")
        shutil.copyfile(path, copy)
        self.assertEqual(run_receipt(copy, 1, {}, rule)["data"]["sha256"],
                         first)  # fmt: skip
        # One label changed: another hash.
        arrays = {
            split: msakeras.data.load_split(path, split)
            for split in ("train", "valid", "test")
        }
        arrays["test"]["label"][0] += 0.5
        msakeras.data.write_dataset(
            path,
            arrays,
            msakeras.data.read_attributes(path),
            overwrite=True,
        )
        self.assertNotEqual(run_receipt(path, 1, {}, rule)["data"]["sha256"],
                            first)  # fmt: skip

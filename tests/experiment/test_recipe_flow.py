"""The recipes' seed loop with a tiny model: receipt and sealed test."""

import contextlib
import json
import os

import h5py
import keras
import numpy as np
import pandas as pd

import msakeras
from msakeras.experiment import RECEIPT_FIELDS
from msakeras.experiment import HeldOutTestData
from msakeras.experiment import HeldOutTestSplit
from msakeras.experiment import TestSplitAccessError
from msakeras.experiment import checkpoint_scoring
from msakeras.experiment import file_sha256
from msakeras.experiment import recipe_arguments
from msakeras.experiment import run_callbacks
from msakeras.experiment import run_data
from msakeras.experiment import run_records
from msakeras.experiment import seed_loop
from msakeras.testing import TestCase
from tests.experiment.tiny_runs import tiny_data
from tests.experiment.tiny_runs import tiny_model
from tests.models.self_mi import test_self_mi_model

SETTINGS = {
    "mosi": {"batch_size": 8, "epochs": 3, "patience": 5},
    "sims": {"batch_size": 8, "epochs": 2, "patience": 5},
}


def tiny_self_mi(args):
    """A small Self-MI (unimodal heads `<modality>_sentiment`) for `args`."""
    train = msakeras.data.load_split(args.data, "train", keys=["label"])
    model = test_self_mi_model.tiny_model(
        num_train_samples=len(train["label"]),
        label_range=msakeras.data.label_range(args.dataset)[1],
    )
    model.compile()
    return model


@contextlib.contextmanager
def recorded_test_access():
    """Records every opening of a `test` group of an HDF5 file.

    Yields `(reads, openings)`: the `HeldOutTestSplit.read` calls, and one
    `True`/`False` per access to a test group, `True` when it happened
    through the sealed read: inside `read` or through the
    `HeldOutTestData` it returns (which streams the split in batches).
    Any other path to the test split (a `FeatureSequence`, `load_split`,
    `open_dataset`) goes through `h5py.Group.__getitem__` and shows up as
    `False`.
    """
    reads, openings, inside = [], [], [0]
    originals = {
        name: getattr(HeldOutTestData, name)
        for name in ("predict", "labels", "keys", "batches")
    }
    original_read = HeldOutTestSplit.read
    original_getitem = h5py.Group.__getitem__

    def sealed(function):
        def call(*args, **kwargs):
            inside[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                inside[0] -= 1

        return call

    def sealed_batches(data, *args, **kwargs):
        iterator = sealed(originals["batches"])(data, *args, **kwargs)
        next_batch = sealed(next)
        while True:
            try:
                yield next_batch(iterator)
            except StopIteration:
                return

    def counting_read(split, selection):
        reads.append(selection.best_epoch)
        return sealed(original_read)(split, selection)

    def recording_getitem(group, name):
        if isinstance(name, str) and name.strip("/").split("/")[0] == "test":
            if group.name == "/":
                openings.append(inside[0] > 0)
        return original_getitem(group, name)

    HeldOutTestSplit.read = counting_read
    for name in ("predict", "labels", "keys"):
        setattr(HeldOutTestData, name, sealed(originals[name]))
    HeldOutTestData.batches = sealed_batches
    h5py.Group.__getitem__ = recording_getitem
    try:
        yield reads, openings
    finally:
        HeldOutTestSplit.read = original_read
        for name, function in originals.items():
            setattr(HeldOutTestData, name, function)
        h5py.Group.__getitem__ = original_getitem


class RecipeFlowTest(TestCase):
    def test_train_seeds_writes_receipt_and_reads_test_once(self):
        path = tiny_data(self.temp_dir, num=32)
        output = os.path.join(self.temp_dir, "runs")
        args = recipe_arguments.base_parser("tiny", "").parse_args(
            ["--data", path, "--seeds", "7", "--output-dir", output,
             "--verbose", "0"]
        )  # fmt: skip
        args = recipe_arguments.finish_args(args, "tiny", SETTINGS, {})
        with recorded_test_access() as (reads, openings):
            scores, baselines = seed_loop.train_seeds(
                args, lambda args: tiny_model()
            )
        self.assertEqual(len(reads), 1)  # one seed, one test read
        self.assertNotEmpty(openings)
        self.assertTrue(all(openings), "test split opened outside the seal")
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
        args = recipe_arguments.base_parser("tiny", "").parse_args(
            ["--data", path]
        )
        args = recipe_arguments.finish_args(args, "tiny", SETTINGS, {})
        train, valid, test = run_data.make_datasets(args, tiny_model(), 1)
        self.assertEqual(valid.split, "valid")
        self.assertIsInstance(test, HeldOutTestSplit)
        with self.assertRaises(TestSplitAccessError):
            test.read(run_callbacks.SELECTION)  # a rule, not a sealed selection
        with self.assertRaises(TestSplitAccessError):
            len(test)

    def test_unimodal_head_scores_come_from_the_one_sealed_read(self):
        # Self-MI's SIMS protocol: unimodal heads scored against the human
        # unimodal labels, from the same (only) test read.
        path = tiny_data(self.temp_dir, num=32, dataset="sims")
        output = os.path.join(self.temp_dir, "runs")
        args = recipe_arguments.base_parser("tiny", "").parse_args(
            ["--data", path, "--seeds", "7", "--output-dir", output,
             "--verbose", "0"]
        )  # fmt: skip
        args = recipe_arguments.finish_args(args, "tiny", SETTINGS, {})
        evaluate = checkpoint_scoring.checkpoint_evaluator(
            unimodal_heads=("text", "audio", "vision")
        )
        with recorded_test_access() as (reads, openings):
            scores, _ = seed_loop.train_seeds(
                args,
                tiny_self_mi,
                evaluate=evaluate,
            )
        self.assertEqual(len(reads), 1)
        self.assertNotEmpty(openings)
        self.assertTrue(all(openings), "test split opened outside the seal")

        with open(os.path.join(output, "seed_7", "run.json")) as handle:
            record = json.load(handle)
        self.assertEqual(record["test"], scores[7])
        unimodal = record["unimodal_test"]
        self.assertEqual(sorted(unimodal), ["audio", "text", "vision"])
        # NumPy check of MAE and Corr on the selected checkpoint.
        model = keras.models.load_model(
            os.path.join(output, "seed_7", "model.keras")
        )
        arrays = msakeras.data.load_split(path, "test")
        inputs = {
            tensor.name: arrays[tensor.name].astype(tensor.dtype)
            for tensor in model.inputs
        }
        predictions = model.predict(inputs, verbose=0)
        for modality in ("text", "audio", "vision"):
            predicted = np.asarray(
                predictions[f"{modality}_sentiment"], "float64"
            ).reshape(-1)
            labels = arrays[f"label_{modality}"].astype("float64")
            self.assertAlmostEqual(
                unimodal[modality]["MAE"],
                np.mean(np.abs(predicted - labels)),
                5,
            )
            self.assertAlmostEqual(
                unimodal[modality]["Corr"],
                np.corrcoef(predicted, labels)[0, 1],
                4,
            )
        self.assertNotEqual(unimodal["text"], unimodal["audio"])

    def test_without_unimodal_labels_the_entry_is_none(self):
        path = tiny_data(self.temp_dir, num=16)
        output = os.path.join(self.temp_dir, "runs")
        args = recipe_arguments.base_parser("tiny", "").parse_args(
            ["--data", path, "--seeds", "7", "--output-dir", output,
             "--verbose", "0", "--epochs", "1"]
        )  # fmt: skip
        args = recipe_arguments.finish_args(args, "tiny", SETTINGS, {})
        with recorded_test_access() as (reads, openings):
            seed_loop.train_seeds(
                args,
                tiny_self_mi,
                evaluate=checkpoint_scoring.checkpoint_evaluator(
                    unimodal_heads=("text", "audio", "vision")
                ),
            )
        self.assertEqual(len(reads), 1)
        self.assertTrue(all(openings))
        self.assertIsNone(
            run_records.run_record(os.path.join(output, "seed_7"))[
                "unimodal_test"
            ]
        )

    def test_the_recorder_sees_reads_that_bypass_the_seal(self):
        # The old Self-MI path: a FeatureSequence and load_split on "test".
        path = tiny_data(self.temp_dir, dataset="sims")
        with recorded_test_access() as (reads, openings):
            msakeras.data.FeatureSequence(path, "test", batch_size=4)[0]
        self.assertEqual(reads, [])
        self.assertIn(False, openings)
        with recorded_test_access() as (reads, openings):
            msakeras.data.load_split(path, "test", keys=["label_text"])
        self.assertIn(False, openings)
        with recorded_test_access() as (reads, openings):
            msakeras.data.load_split(path, "valid")
        self.assertEqual(openings, [])

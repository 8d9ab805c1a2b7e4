"""msakeras.predict never overwrites an input and validates every split."""

import hashlib
import os

import h5py
import numpy as np

from msakeras import predict
from msakeras.data import feature_statistics
from msakeras.testing import TestCase
from tests import disk_faults
from tests.models.mmim import test_mmim_model
from tests.test_predict import tiny_file


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class PredictReliabilityTest(TestCase):
    def setUp(self):
        super().setUp()
        self.model_path = os.path.join(self.temp_dir, "mmim.keras")
        test_mmim_model.tiny_model().save(self.model_path)
        self.data = tiny_file(self.temp_dir)
        self.output = os.path.join(self.temp_dir, "preds.csv")

    def run_predict(self, output=None, data=None):
        return predict.main(
            [
                self.model_path,
                "--data",
                data or self.data,
                "--output",
                output or self.output,
                "--verbose",
                "0",
            ]
        )

    def assert_refused(self, pattern, output=None):
        with self.assertRaises(SystemExit) as context:
            self.run_predict(output=output)
        message = str(context.exception)
        self.assertRegex(message, pattern)
        self.assertNotIn("\n", message)

    def test_output_equal_to_an_input_is_refused(self):
        before = {p: sha256(p) for p in (self.data, self.model_path)}
        self.assert_refused("is the input", output=self.data)
        self.assert_refused("is the input", output=self.model_path)
        # Another spelling of the same file, and a symlink to it.
        spelled = os.path.join(self.temp_dir, ".", "tiny.h5")
        self.assert_refused("is the input", output=spelled)
        link = os.path.join(self.temp_dir, "link.csv")
        os.symlink(self.data, link)
        self.assert_refused("is the input", output=link)
        hardlink = os.path.join(self.temp_dir, "hard.csv")
        os.link(self.data, hardlink)
        self.assert_refused("is the input", output=hardlink)
        for path, digest in before.items():
            self.assertEqual(sha256(path), digest)

    def test_output_that_is_a_folder_is_refused(self):
        folder = os.path.join(self.temp_dir, "out")
        os.mkdir(folder)
        self.assert_refused("is a folder", output=folder)
        self.assertEqual(os.listdir(folder), [])

    def edit_unlabelled_test(self, edit):
        with h5py.File(self.data, "a") as file:
            group = file["test"]
            del group["label"]
            edit(group)

    def test_left_padded_mask_without_labels_is_refused(self):
        def edit(group):
            mask = group["audio_mask"][()]
            mask[4] = 0
            mask[4, -2:] = 1
            group["audio_mask"][...] = mask

        self.edit_unlabelled_test(edit)
        self.assert_refused("'audio_mask'.*right-padded.*sample 4")
        self.assertFalse(os.path.exists(self.output))

    def test_mask_value_two_without_labels_is_refused(self):
        def edit(group):
            mask = group["vision_mask"][()]
            mask[2, 0] = 2
            group["vision_mask"][...] = mask

        self.edit_unlabelled_test(edit)
        self.assert_refused("'vision_mask'.*0 and 1.*sample 2")

    def test_row_count_mismatch_without_labels_is_refused(self):
        def edit(group):
            audio = group["audio"][()]
            del group["audio"]
            group.create_dataset("audio", data=audio[:-1])

        self.edit_unlabelled_test(edit)
        self.assert_refused(r"'audio' has shape \(10, 6, 5\).*11")

    def test_row_count_mismatch_of_ids_is_refused(self):
        def edit(group):
            ids = group["id"].asstr()[()]
            del group["id"]
            group.create_dataset(
                "id",
                data=np.asarray(ids[:-1], dtype=object),
                dtype=h5py.string_dtype("utf-8"),
            )

        self.edit_unlabelled_test(edit)
        self.assert_refused(r"'id' has shape \(10,\)")

    def test_valid_unlabelled_split_still_predicts(self):
        self.edit_unlabelled_test(lambda group: None)
        self.assertIsNone(self.run_predict())
        with open(self.output) as handle:
            self.assertEqual(len(handle.read().splitlines()), 12)

    def test_token_id_beyond_the_vocabulary_is_refused(self):
        with h5py.File(self.data, "a") as file:
            ids = file["test"]["text_token_ids"][()]
            ids[6, 0] = 100  # the tiny model's vocabulary has 100 tokens
            file["test"]["text_token_ids"][...] = ids
        self.assert_refused(
            "'text_token_ids'.*id 100 at sample 6.*vocabulary has 100"
        )
        self.assertFalse(os.path.exists(self.output))

    def test_unknown_dataset_attribute_is_refused_before_writing(self):
        with h5py.File(self.data, "a") as file:
            file.attrs["dataset"] = "imdb"
        self.assert_refused("attribute dataset='imdb'")
        self.assertFalse(os.path.exists(self.output))

    def test_release_file_with_another_datasets_widths_is_refused(self):
        with h5py.File(self.data, "a") as file:
            file.attrs["dataset"] = "mosi"
            file.attrs["source_release"] = "MMSA pickle unaligned_39.pkl"
        self.assert_refused(
            r"tiny\.h5', split 'test': key 'vision' has shape \(11, 5, 4\), "
            r"feature width 4, but dataset 'mosi' has vision width 20"
        )
        self.assertFalse(os.path.exists(self.output))

    def test_read_only_output_folder_is_one_line(self):
        folder = os.path.join(self.temp_dir, "read_only")
        output = os.path.join(folder, "preds.csv")
        with disk_faults.read_only(folder):
            self.assert_refused(
                r"cannot write '.*read_only.*': .*\((EROFS|EACCES)\)\. "
                "Nothing half-written",
                output=output,
            )
        self.assertEqual(disk_faults.leftovers(folder), [])

    def test_full_disk_leaves_no_partial_csv(self):
        folder = os.path.join(self.temp_dir, "full")
        os.mkdir(folder)
        output = os.path.join(folder, "preds.csv")
        with disk_faults.full_disk(folder):
            self.assert_refused(r"cannot write .*\(ENOSPC\)", output=output)
        self.assertEqual(disk_faults.leftovers(folder), [])

    def test_far_out_feature_values_warn(self):
        with h5py.File(self.data, "a") as file:
            vision = file["test"]["vision"][()]
            vision[2, 0, 0] = 1e30
            file["test"]["vision"][...] = vision
        with self.assertWarnsRegex(
            feature_statistics.FeatureRangeWarning,
            r"split 'test': key 'vision' .* first at sample 2",
        ):
            self.run_predict()
        self.assertTrue(os.path.exists(self.output))  # a warning, not a refusal

"""The CSV + .npy converter, and the worked example of data_prep/README.md."""

import os
import re
import shlex

import numpy as np
import pandas as pd

import msakeras
from data_prep import convert_csv_features
from data_prep import wordpiece
from data_prep.examples import make_csv_example
from msakeras.testing import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

# Commands `python -m <module> ...` that the README example may use.
MODULES = {
    "data_prep.examples.make_csv_example": make_csv_example.main,
    "data_prep.convert_csv_features": convert_csv_features.main,
}


def readme_example_commands():
    with open(os.path.join(ROOT, "data_prep", "README.md")) as handle:
        text = handle.read()
    block = re.search(
        r"<!-- csv-example:begin -->\s*```bash\n(.*?)```", text, re.DOTALL
    )
    assert block, "data_prep/README.md lost its csv-example block"
    return [
        shlex.split(line)
        for line in block.group(1).replace("\\\n", " ").splitlines()
        if line.strip()
    ]


def vocabulary_ids(tokens):
    """Ids by line number in the real bert-base-uncased vocab.txt."""
    with open(wordpiece.default_vocabulary_path(), encoding="utf-8") as file:
        lines = [line.rstrip("\n") for line in file]
    return [lines.index(token) for token in tokens]


class CsvFeaturesConverterTest(TestCase):
    def run_readme_example(self):
        cwd = os.getcwd()
        os.chdir(self.temp_dir)
        try:
            for command in readme_example_commands():
                self.assertEqual(command[:2], ["python", "-m"], command)
                self.assertEqual(MODULES[command[2]](command[3:]), 0, command)
        finally:
            os.chdir(cwd)
        return os.path.join(self.temp_dir, "my_data")

    def test_readme_example_round_trips(self):
        folder = self.run_readme_example()
        table = pd.read_csv(os.path.join(folder, "samples.csv"))
        path = os.path.join(folder, "my_data.h5")
        attributes = msakeras.data.read_attributes(path)
        self.assertEqual(attributes["dataset"], "mosi")
        self.assertEqual(attributes["text_vocabulary"], "bert_base_uncased")
        self.assertEqual(attributes["tokenizer"], "keras_hub")
        audio_steps = max(
            len(np.load(os.path.join(folder, "audio", f"{i}.npy")))
            for i in table["id"]
        )
        for split in ("train", "valid", "test"):
            arrays = msakeras.data.load_split(path, split)
            part = table[table["split"] == split]
            self.assertEqual(arrays["id"].tolist(), part["id"].tolist())
            self.assertEqual(arrays["raw_text"].tolist(), part["text"].tolist())
            np.testing.assert_array_equal(arrays["index"], np.arange(len(part)))
            for key in ("label", "label_text", "label_audio", "label_vision"):
                np.testing.assert_allclose(
                    arrays[key], part[key].to_numpy(np.float32)
                )
            self.assertEqual(arrays["audio"].shape[1], audio_steps)
            for row, sample_id in enumerate(part["id"]):
                for role in ("audio", "vision"):
                    original = np.load(
                        os.path.join(folder, role, f"{sample_id}.npy")
                    )
                    frames = len(original)
                    np.testing.assert_array_equal(
                        arrays[role][row, :frames], original
                    )
                    self.assertTrue(np.all(arrays[role][row, frames:] == 0))
                    self.assertEqual(arrays[f"{role}_mask"][row].sum(), frames)
                    self.assertTrue(
                        np.all(arrays[f"{role}_mask"][row, :frames])
                    )
        # Text: [CLS] pieces [SEP] with the real vocabulary's ids.
        train = msakeras.data.load_split(path, "train")
        expected = vocabulary_ids(
            ["[CLS]", "the", "movie", "was", "great", ",", "i", "loved",
             "it", "!", "[SEP]"]
        )  # fmt: skip
        self.assertEqual(expected[0], 101)  # bert-base-uncased [CLS]
        row = train["id"].tolist().index("clip_001")
        np.testing.assert_array_equal(
            train["text_token_ids"][row, : len(expected)], expected
        )
        self.assertEqual(train["text_padding_mask"][row].sum(), len(expected))
        self.assertTrue(np.all(train["text_token_ids"][row, len(expected) :]
                               == 0))  # fmt: skip
        row = train["id"].tolist().index("clip_006")
        expected = vocabulary_ids(
            ["[CLS]", "i", "don", "'", "t", "know", "what", "to", "think",
             ".", "[SEP]"]
        )  # fmt: skip
        np.testing.assert_array_equal(
            train["text_token_ids"][row, : len(expected)], expected
        )
        # The pure-Python WordPiece gives the same file contents.
        python_path = os.path.join(folder, "python.h5")
        code = convert_csv_features.main(
            ["--csv", os.path.join(folder, "samples.csv"),
             "--audio-dir", os.path.join(folder, "audio"),
             "--vision-dir", os.path.join(folder, "vision"),
             "--dataset", "mosi", "--tokenizer", "python",
             "--output", python_path]
        )  # fmt: skip
        self.assertEqual(code, 0)
        for split in ("train", "valid", "test"):
            np.testing.assert_array_equal(
                msakeras.data.load_split(python_path, split)["text_token_ids"],
                msakeras.data.load_split(path, split)["text_token_ids"],
            )

    def test_bad_inputs_fail_with_a_clear_message(self):
        folder = os.path.join(self.temp_dir, "data")
        make_csv_example.main([folder])
        csv_path = os.path.join(folder, "samples.csv")
        output = os.path.join(self.temp_dir, "out.h5")

        def convert(**overrides):
            arguments = dict(
                csv_path=csv_path,
                audio_dir=os.path.join(folder, "audio"),
                vision_dir=os.path.join(folder, "vision"),
                output_path=output,
                dataset="mosi",
                tokenizer="python",
            )
            arguments.update(overrides)
            return convert_csv_features.convert(**arguments)

        os.remove(os.path.join(folder, "vision", "clip_004.npy"))
        with self.assertRaisesRegex(ValueError, "clip_004"):
            convert()
        np.save(
            os.path.join(folder, "vision", "clip_004.npy"),
            np.zeros((3, 7), np.float32),
        )
        with self.assertRaisesRegex(ValueError, r"width 7 differs from 20"):
            convert()
        np.save(
            os.path.join(folder, "vision", "clip_004.npy"),
            np.zeros((3, 20), np.float32),
        )
        table = pd.read_csv(csv_path)
        table.loc[2, "split"] = "dev"
        bad_csv = os.path.join(folder, "bad.csv")
        table.to_csv(bad_csv, index=False)
        with self.assertRaisesRegex(ValueError, "row 4.*'dev'"):
            convert(csv_path=bad_csv)
        table.loc[2, "split"] = "train"
        table.loc[3, "label"] = 7.5
        table.to_csv(bad_csv, index=False)
        with self.assertRaisesRegex(ValueError, "label"):
            convert(csv_path=bad_csv)
        self.assertFalse(os.path.exists(output))  # nothing half-written
        convert()
        with self.assertRaisesRegex(ValueError, "already exists"):
            convert()


class CsvFeaturesConfinementTest(TestCase):
    def setUp(self):
        super().setUp()
        self.folder = os.path.join(self.temp_dir, "data")
        make_csv_example.main([self.folder])
        self.output = os.path.join(self.temp_dir, "out.h5")

    def convert_with_id(self, sample_id):
        table = pd.read_csv(os.path.join(self.folder, "samples.csv"))
        table["id"] = table["id"].astype(object)
        table.loc[0, "id"] = sample_id
        csv_path = os.path.join(self.folder, "hostile.csv")
        table.to_csv(csv_path, index=False)
        return convert_csv_features.convert(
            csv_path=csv_path,
            audio_dir=os.path.join(self.folder, "audio"),
            vision_dir=os.path.join(self.folder, "vision"),
            output_path=self.output,
            dataset="mosi",
            tokenizer="python",
        )

    def test_ids_outside_the_feature_folders_are_refused(self):
        # Real feature files outside --audio-dir that `../` would reach.
        outside = os.path.join(self.temp_dir, "outside")
        os.mkdir(outside)
        first = sorted(os.listdir(os.path.join(self.folder, "audio")))[0]
        array = np.load(os.path.join(self.folder, "audio", first))
        np.save(os.path.join(outside, "x.npy"), array)
        for sample_id in ("../../outside/x", os.path.join(outside, "x")):
            with self.subTest(sample_id=sample_id):
                with self.assertRaisesRegex(
                    ValueError, r"points outside --audio-dir"
                ):
                    self.convert_with_id(sample_id)
        self.assertFalse(os.path.exists(self.output))

    def test_an_npz_named_npy_is_one_error(self):
        first = sorted(os.listdir(os.path.join(self.folder, "audio")))[0]
        path = os.path.join(self.folder, "audio", first)
        with open(path, "wb") as handle:
            np.savez(handle, a=np.zeros((3, 2)))
        with self.assertRaisesRegex(ValueError, rf"{first}.*\.npz archive"):
            self.convert_with_id(first[: -len(".npy")])

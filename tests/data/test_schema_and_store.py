import os

import h5py
import numpy as np
from absl.testing import parameterized

from msakeras.data import hdf5_store
from msakeras.data import schema
from msakeras.testing import test_case


def tiny_split(num_samples=4, seed=0):
    """A valid split: text 6 tokens, audio 5 x 3, vision 4 x 2."""
    generator = np.random.default_rng(seed)
    text_lengths = np.array([6, 3, 4, 2, 5, 6])[:num_samples]
    audio_lengths = np.array([5, 1, 3, 5, 2, 4])[:num_samples]
    vision_lengths = np.array([4, 2, 1, 3, 4, 2])[:num_samples]

    def mask(lengths, steps):
        return (np.arange(steps)[None] < lengths[:, None]).astype("int8")

    text_mask = mask(text_lengths, 6)
    audio_mask = mask(audio_lengths, 5)
    vision_mask = mask(vision_lengths, 4)
    return {
        "text_token_ids": (
            generator.integers(1, 50, (num_samples, 6)) * text_mask
        ).astype("int32"),
        "text_padding_mask": text_mask,
        "audio": (
            generator.normal(size=(num_samples, 5, 3)) * audio_mask[..., None]
        ).astype("float32"),
        "audio_mask": audio_mask,
        "vision": (
            generator.normal(size=(num_samples, 4, 2)) * vision_mask[..., None]
        ).astype("float32"),
        "vision_mask": vision_mask,
        "label": np.linspace(-3, 3, num_samples).astype("float32"),
        "index": np.arange(num_samples, dtype="int32"),
        "id": np.array([f"clip_{i}" for i in range(num_samples)]),
    }


def _set(key, value_fn):
    def mutate(arrays):
        arrays[key] = value_fn(arrays[key])
        return arrays

    return mutate


def _nan_at_sample_2(array):
    array = array.copy()
    array[2, 0, 0] = np.nan
    return array


def _inf_at_sample_1(array):
    array = array.copy()
    array[1, 0, 1] = np.inf
    return array


def _mask_value_2(array):
    array = array.copy()
    array[3, 0] = 2
    return array


def _left_padded(array):
    array = array.copy()
    array[1] = array[1][::-1]
    return array


def _add_key(arrays):
    arrays["text_ids"] = arrays["text_token_ids"]
    return arrays


def _drop_key(arrays):
    del arrays["audio_mask"]
    return arrays


BAD_INPUTS = (
    ("wrong_key", _add_key, ["text_ids"]),
    ("missing_key", _drop_key, ["audio_mask"]),
    (
        "wrong_dtype",
        _set("audio", lambda a: a.astype("float64")),
        ["'audio'", r"\(4, 5, 3\)", "float32"],
    ),
    (
        "wrong_rank",
        _set("audio", lambda a: a[..., 0]),
        ["'audio'", r"\(4, 5\)", "rank 3"],
    ),
    (
        "nan_feature",
        _set("audio", _nan_at_sample_2),
        ["'audio'", r"\(4, 5, 3\)", "sample 2"],
    ),
    (
        "inf_feature",
        _set("vision", _inf_at_sample_1),
        ["'vision'", r"\(4, 4, 2\)", "sample 1"],
    ),
    (
        "mismatched_counts",
        _set("label", lambda a: a[:3]),
        ["'audio'|'text_token_ids'", "samples"],
    ),
    (
        "mask_not_binary",
        _set("audio_mask", _mask_value_2),
        ["'audio_mask'", r"\(4, 5\)", "sample 3"],
    ),
    (
        "left_padding",
        _set("vision_mask", _left_padded),
        ["'vision_mask'", r"\(4, 4\)", "sample 1", "right-"],
    ),
    (
        "mask_steps",
        _set("audio_mask", lambda a: a[:, :4]),
        ["'audio'", "'audio_mask'"],
    ),
    (
        "label_range",
        _set("label", lambda a: a * 2),
        ["'label'", "sample 0", r"\[-3.0, 3.0\]"],
    ),
    ("index", _set("index", lambda a: a[::-1].copy()), ["'index'", "sample 0"]),
    (
        "pad_token",
        _set("text_token_ids", lambda a: a + 1),
        ["'text_token_ids'", "sample 1"],
    ),
    (
        "empty",
        lambda arrays: {k: v[:0] for k, v in arrays.items()},
        ["empty", r"\(0,\)"],
    ),
)


class ValidateSplitTest(test_case.TestCase):
    def test_valid_split(self):
        self.assertEqual(
            schema.validate_split(tiny_split(), "train", dataset="mosi"), 4
        )

    def test_bad_input_raises_one_value_error(self):
        for name, mutate, patterns in BAD_INPUTS:
            with self.subTest(name):
                with self.assertRaises(ValueError) as context:
                    schema.validate_split(
                        mutate(tiny_split()),
                        "train",
                        path="data.h5",
                        dataset="mosi",
                    )
                message = str(context.exception)
                self.assertIn("File 'data.h5', split 'train'", message)
                for pattern in patterns:
                    self.assertRegex(message, pattern)

    def test_cast_to_schema(self):
        arrays = tiny_split()
        loose = {
            key: value.astype("float64") if value.dtype.kind == "f" else value
            for key, value in arrays.items()
        }
        loose["id"] = np.array([b"a", b"b", b"c", b"d"], dtype=object)
        schema.validate_split(schema.cast_to_schema(loose), "train")


class Hdf5StoreTest(test_case.TestCase):
    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.temp_dir, "data.h5")
        self.splits = {"train": tiny_split(4, 0), "test": tiny_split(3, 1)}
        self.attributes = {"dataset": "mosi", "source_release": "test"}

    def test_round_trip(self):
        hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        for split, arrays in self.splits.items():
            loaded = hdf5_store.load_split(self.path, split)
            self.assertEqual(sorted(loaded), sorted(arrays))
            for key, value in arrays.items():
                self.assertEqual(loaded[key].dtype.kind, value.dtype.kind)
                np.testing.assert_array_equal(loaded[key], value)
        attributes = hdf5_store.read_attributes(self.path)
        self.assertEqual(attributes["format_version"], schema.FORMAT_VERSION)
        self.assertEqual(attributes["dataset"], "mosi")
        self.assertEqual(attributes["padding_side"], "right")
        self.assertEqual(attributes["audio_dim"], 3)
        self.assertEqual(attributes["vision_max_length"], 4)
        with hdf5_store.open_dataset(self.path) as file:
            audio = file["train"]["audio"]
            self.assertEqual(audio.chunks[1:], audio.shape[1:])
        self.assertEqual(
            sorted(hdf5_store.load_split(self.path, "test", keys=["label"])),
            ["label"],
        )

    def test_file_mode_follows_the_umask(self):
        previous = os.umask(0o022)
        try:
            hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        finally:
            os.umask(previous)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o644)

    def test_bad_input_writes_nothing(self):
        for name, mutate, patterns in BAD_INPUTS:
            with self.subTest(name):
                splits = {"train": mutate(tiny_split())}
                with self.assertRaises(ValueError) as context:
                    hdf5_store.write_dataset(self.path, splits, self.attributes)
                message = str(context.exception)
                self.assertIn(f"File '{self.path}', split 'train'", message)
                for pattern in patterns:
                    self.assertRegex(message, pattern)
                self.assertEqual(os.listdir(self.temp_dir), [])

    def test_existing_file_needs_overwrite(self):
        hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        with self.assertRaisesRegex(ValueError, "already exists.*overwrite"):
            hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        hdf5_store.write_dataset(
            self.path,
            {"train": tiny_split(2)},
            self.attributes,
            overwrite=True,
        )
        self.assertEqual(
            len(hdf5_store.load_split(self.path, "train")["id"]), 2
        )
        self.assertEqual(os.listdir(self.temp_dir), ["data.h5"])

    def test_unknown_format_version(self):
        hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        with h5py.File(self.path, "a") as file:
            file.attrs["format_version"] = 99
        with self.assertRaisesRegex(ValueError, r"data.h5.*99.*=1"):
            hdf5_store.load_split(self.path, "train")
        with self.assertRaisesRegex(ValueError, "format_version"):
            hdf5_store.write_dataset(
                self.path,
                self.splits,
                {"dataset": "mosi", "format_version": 2},
                overwrite=True,
            )

    def test_missing_split_file_and_key(self):
        hdf5_store.write_dataset(self.path, self.splits, self.attributes)
        with self.assertRaisesRegex(ValueError, r"no split 'valid'.*test"):
            hdf5_store.load_split(self.path, "valid")
        with self.assertRaisesRegex(ValueError, "missing key.*'raw_text'"):
            hdf5_store.load_split(self.path, "train", keys=["raw_text"])
        with self.assertRaisesRegex(FileNotFoundError, "nothing.h5"):
            hdf5_store.read_attributes(
                os.path.join(self.temp_dir, "nothing.h5")
            )

    @parameterized.named_parameters(
        ("no_dataset", {}, "name the dataset"),
        ("bad_split", None, "unknown split"),
    )
    def test_bad_arguments(self, attributes, message):
        splits = (
            self.splits
            if attributes is not None
            else {"training": tiny_split()}
        )
        with self.assertRaisesRegex(ValueError, message):
            hdf5_store.write_dataset(
                self.path,
                splits,
                attributes if attributes is not None else self.attributes,
            )
        self.assertEqual(os.listdir(self.temp_dir), [])

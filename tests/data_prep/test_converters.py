"""Converters from fake releases in the real layouts to the standard file."""

import contextlib
import io
import json
import os
import pickle
import re

import h5py
import numpy as np
from absl.testing import parameterized

from data_prep import convert_csd
from data_prep import convert_mmsa_pickle
from data_prep import convert_mult_pickle
from data_prep import safe_pickle
from data_prep import wordpiece
from msakeras.data import load_split
from msakeras.data import read_attributes
from msakeras.data import validate_file
from msakeras.testing.test_case import TestCase
from tests.data_prep import fixtures

SPLITS = ("train", "valid", "test")


def _run(main, argv):
    """Runs a converter's main in-process; returns (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


class _MarkerPayload:
    """Unpickling it calls `function(argument)`: a code-execution pickle."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return (self.function, (self.argument,))


class SafePickleTest(TestCase):
    @parameterized.parameters(2, 4, 5)
    def test_loads_numpy_and_containers(self, protocol):
        value = {
            "a": np.arange(6, dtype="float64").reshape(2, 3),
            "s": np.asarray(["x", "yz"]),
            "b": np.asarray([b"ab", b"c"]),
            "o": np.asarray(["p", "q"], dtype=object),
            "scalar": np.float32(1.5),
            "list": [1, 2.5, "t", (3, None)],
            "bytes": b"\x00\xff",
        }
        loaded = safe_pickle.loads(pickle.dumps(value, protocol=protocol))
        np.testing.assert_array_equal(loaded["a"], value["a"])
        np.testing.assert_array_equal(loaded["s"], value["s"])
        np.testing.assert_array_equal(loaded["b"], value["b"])
        self.assertEqual(loaded["o"].tolist(), ["p", "q"])
        self.assertEqual(loaded["scalar"], np.float32(1.5))
        self.assertEqual(loaded["list"], value["list"])
        self.assertEqual(loaded["bytes"], value["bytes"])

    def test_numpy_1x_names_are_accepted(self):
        data = pickle.dumps(np.arange(3), protocol=2)
        old = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
        self.assertIn(b"numpy.core.multiarray", old)
        np.testing.assert_array_equal(safe_pickle.loads(old), np.arange(3))

    @parameterized.named_parameters(
        ("os_system", "os_system"), ("builtins_eval", "builtins_eval")
    )
    def test_malicious_pickle_is_refused_and_never_runs(self, kind):
        marker = os.path.join(self.temp_dir, "pwned")
        if kind == "os_system":
            payload = _MarkerPayload(os.system, f"touch {marker}")
        else:
            payload = _MarkerPayload(eval, f"open({marker!r}, 'w').close()")
        source = os.path.join(self.temp_dir, "evil.pkl")
        fixtures.write_pickle(source, {"train": {"audio": payload}})
        output = os.path.join(self.temp_dir, "out.h5")
        with self.assertRaisesRegex(
            pickle.UnpicklingError, r"evil\.pkl.*Refusing.*(system|eval)"
        ):
            safe_pickle.load_pickle(source)
        code, _, err = _run(
            convert_mmsa_pickle.main, ["--input", source, "--output", output]
        )
        self.assertEqual(code, 1)
        self.assertIn("Refusing", err)
        self.assertFalse(os.path.exists(marker))
        self.assertFalse(os.path.exists(output))
        self.assertEqual(os.listdir(self.temp_dir), ["evil.pkl"])

    def test_truncated_pickle(self):
        source = os.path.join(self.temp_dir, "cut.pkl")
        data = pickle.dumps({"train": {"a": np.zeros(100)}}, protocol=4)
        with open(source, "wb") as file:
            file.write(data[: len(data) // 2])
        with self.assertRaisesRegex(ValueError, r"cut\.pkl.*truncated"):
            safe_pickle.load_pickle(source)


class MMSAPickleTest(TestCase):
    def _convert(self, release, extra=()):
        source = fixtures.write_pickle(
            os.path.join(self.temp_dir, "release.pkl"), release
        )
        output = os.path.join(self.temp_dir, "out.h5")
        code, out, err = _run(
            convert_mmsa_pickle.main,
            ["--input", source, "--output", output, *extra],
        )
        return code, out, err, source, output

    def _check(self, output, expected, release):
        for split in SPLITS:
            arrays = load_split(output, split)
            exp = expected[split]
            for key in (
                "text_token_ids",
                "text_padding_mask",
                "audio",
                "audio_mask",
                "vision",
                "vision_mask",
            ):
                self.assertEqual(arrays[key].dtype, exp[key].dtype, key)
                np.testing.assert_allclose(arrays[key], exp[key], err_msg=key)
            np.testing.assert_allclose(
                arrays["label"],
                release[split]["regression_labels"],
                rtol=1e-6,
            )
            self.assertEqual(arrays["label"].dtype, np.float32)
            self.assertEqual(
                arrays["id"].tolist(), release[split]["id"].tolist()
            )
            self.assertEqual(
                arrays["raw_text"].tolist(),
                list(release[split]["raw_text"]),
            )
            np.testing.assert_array_equal(
                arrays["index"], np.arange(len(arrays["label"]))
            )
            np.testing.assert_array_equal(
                arrays["text_segment_ids"], np.zeros_like(exp["text_token_ids"])
            )
        return arrays

    def test_unaligned_mosi_with_real_quirks(self):
        release, expected = fixtures.mmsa_release(np.random.default_rng(0))
        code, out, err, _, output = self._convert(release)
        self.assertEqual(code, 0, err)
        self._check(output, expected, release)
        attributes = read_attributes(output)
        self.assertEqual(attributes["dataset"], "mosi")
        self.assertEqual(attributes["text_vocabulary"], "bert_base_uncased")
        self.assertEqual(attributes["audio_dim"], 5)
        self.assertEqual(attributes["padding_side"], "right")
        vision_tail = 8 - int(release["train"]["vision_lengths"][0])
        self.assertIn(
            f"non-zero frames past the length zeroed: {vision_tail} frames "
            "in 1 sequences",
            out,
        )
        self.assertIn("NaN 1, +inf 0, -inf 1", out)
        self.assertIn("samples: train 5, valid 3, test 4", out)
        self.assertIn("inferred", out)
        self.assertIn("ignored top-level keys: ['config']", out)

    def test_sims_with_unimodal_labels_and_list_lengths(self):
        release, expected = fixtures.mmsa_release(
            np.random.default_rng(1), sims=True
        )
        code, out, err, _, output = self._convert(release)
        self.assertEqual(code, 0, err)
        self._check(output, expected, release)
        self.assertEqual(read_attributes(output)["dataset"], "sims")
        for split in SPLITS:
            arrays = load_split(output, split)
            for suffix, key in zip(
                "TAV", ("label_text", "label_audio", "label_vision")
            ):
                np.testing.assert_allclose(
                    arrays[key],
                    release[split][f"regression_labels_{suffix}"],
                    rtol=1e-6,
                )

    def test_aligned_uses_text_mask(self):
        release, expected = fixtures.mmsa_release(
            np.random.default_rng(2), aligned=True
        )
        code, out, err, _, output = self._convert(release)
        self.assertEqual(code, 0, err)
        self._check(output, expected, release)
        self.assertIn("text mask (aligned file)", out)

    def test_left_padding_is_moved_right(self):
        release, expected = fixtures.mmsa_release(
            np.random.default_rng(3), left=True
        )
        code, out, err, _, output = self._convert(release)
        self.assertEqual(code, 0, err)
        self._check(output, expected, release)
        self.assertIn("audio padding: left (moved to the right)", out)

    def test_overwrite_refused_without_force(self):
        release, expected = fixtures.mmsa_release(np.random.default_rng(4))
        code, _, err, source, output = self._convert(release)
        self.assertEqual(code, 0, err)
        before = os.path.getmtime(output)
        code, _, err = _run(
            convert_mmsa_pickle.main, ["--input", source, "--output", output]
        )
        self.assertEqual(code, 1)
        self.assertIn("--force", err)
        self.assertEqual(os.path.getmtime(output), before)
        code, _, err = _run(
            convert_mmsa_pickle.main,
            [
                "--input",
                source,
                "--output",
                output,
                "--force",
                "--dataset",
                "mosi",
            ],
        )
        self.assertEqual(code, 0, err)

    @parameterized.named_parameters(
        ("missing_key", "missing", r"split 'valid'.*missing key 'audio'"),
        (
            "count",
            "count",
            r"split 'valid'.*key 'vision' has shape \(2, 8, 20\)",
        ),
        (
            "rank",
            "rank",
            r"split 'valid'.*key 'audio' must have rank 3.*\(3, 45\)",
        ),
        ("length", "length", r"key 'audio_lengths'.*\[0, 9\]"),
        ("label_range", "label", r"key 'label'.*\[-3.0, 3.0\]"),
    )
    def test_bad_input_names_file_key_shape(self, kind, pattern):
        release, _ = fixtures.mmsa_release(np.random.default_rng(5))
        valid = release["valid"]
        if kind == "missing":
            del valid["audio"]
        elif kind == "count":
            valid["vision"] = valid["vision"][:2]
        elif kind == "rank":
            valid["audio"] = valid["audio"].reshape(3, -1)
        elif kind == "length":
            valid["audio_lengths"] = valid["audio_lengths"] + 100
        else:
            valid["regression_labels"][0] = 4.0  # fails inside write_dataset
        code, _, err, source, output = self._convert(release)
        self.assertEqual(code, 1)
        self.assertRegex(err, pattern)
        self.assertIn("release.pkl", err)
        self.assertFalse(os.path.exists(output))
        self.assertEqual(sorted(os.listdir(self.temp_dir)), ["release.pkl"])

    def test_failure_during_write_leaves_no_file(self):
        import msakeras.data.hdf5_store as store

        release, _ = fixtures.mmsa_release(np.random.default_rng(6))
        calls = {"n": 0}
        real_create = store.h5py.Group.create_dataset

        def failing(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 5:
                raise OSError("disk full (simulated)")
            return real_create(self, *args, **kwargs)

        store.h5py.Group.create_dataset = failing
        try:
            code, _, err, _, output = self._convert(release)
        finally:
            store.h5py.Group.create_dataset = real_create
        self.assertEqual(code, 1)
        self.assertIn("disk full", err)
        self.assertFalse(os.path.exists(output))
        self.assertEqual(sorted(os.listdir(self.temp_dir)), ["release.pkl"])

    def test_unknown_widths_need_dataset(self):
        release, _ = fixtures.mmsa_release(np.random.default_rng(7))
        for split in SPLITS:
            release[split]["audio"] = release[split]["audio"][..., :4]
        code, _, err, _, _ = self._convert(release)
        self.assertEqual(code, 1)
        self.assertIn("pass --dataset", err)
        code, _, err, _, output = self._convert(release, ["--dataset", "mosi"])
        self.assertEqual(code, 1)
        self.assertIn("Pass --custom-features", err)
        code, _, err, _, output = self._convert(
            release, ["--dataset", "mosi", "--custom-features"]
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(load_split(output, "train")["audio"].shape[2], 4)
        self.assertTrue(
            read_attributes(output)["source_release"].startswith(
                "MMSA-layout custom features"
            )
        )
        validate_file(output)  # custom widths are not held to MOSI's

    def test_sims_release_named_mosi_is_refused(self):
        release, _ = fixtures.mmsa_release(np.random.default_rng(7), sims=True)
        for split in SPLITS:  # in MOSI's label range, so only widths differ
            release[split]["regression_labels"] = np.clip(
                release[split]["regression_labels"], -1, 1
            )
        code, _, err, source, output = self._convert(
            release, ["--dataset", "mosi"]
        )
        self.assertEqual(code, 1, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertRegex(
            err,
            rf"File '{re.escape(source)}', split 'train': key 'audio' has "
            r"shape \(5, 7, 33\), feature width 33 \(that is sims's width\),"
            r" but dataset 'mosi' has audio width 5",
        )
        self.assertFalse(os.path.exists(output))

    def test_recipe_side_check_refuses_a_mislabelled_release_file(self):
        """A file written before the converter checked (or by hand)."""
        release, _ = fixtures.mmsa_release(np.random.default_rng(7), sims=True)
        code, _, err, _, output = self._convert(release, ["--dataset", "sims"])
        self.assertEqual(code, 0, err)
        with h5py.File(output, "r+") as file:
            file.attrs["dataset"] = "mosei"
        with self.assertRaisesRegex(
            ValueError,
            r"out\.h5', split 'train': key 'audio' has shape \(5, 7, 33\).*"
            r"dataset 'mosei' has audio width 74",
        ):
            validate_file(output)


class MulTPickleTest(TestCase):
    def test_convert_noalign(self):
        release, expected, rows = fixtures.mult_release(
            np.random.default_rng(8)
        )
        source = fixtures.write_pickle(
            os.path.join(self.temp_dir, "mosi_data_noalign.pkl"), release, 2
        )
        csv = os.path.join(self.temp_dir, "label.csv")
        with open(csv, "w", encoding="utf-8") as file:
            file.write("video_id,clip_id,text,label,mode\n")
            for text, video, clip, split in rows:
                file.write(f'{video},{clip},"{text}",0.0,{split}\n')
        vocab = fixtures.write_vocab(os.path.join(self.temp_dir, "vocab.txt"))
        output = os.path.join(self.temp_dir, "out.h5")
        code, out, err = _run(
            convert_mult_pickle.main,
            [
                "--input",
                source,
                "--labels-csv",
                csv,
                "--output",
                output,
                "--vocabulary",
                vocab,
                "--text-length",
                "8",
            ],
        )
        self.assertEqual(code, 0, err)
        v = {token: i for i, token in enumerate(fixtures.VOCAB)}
        good = [
            v["[CLS]"],
            v["good"],
            v["movie"],
            v[","],
            v["it"],
            v["was"],
            v["very"],
            v["[SEP]"],
        ]  # truncated to 8 tokens
        bad = [v["[CLS]"], v["bad"], v["movie"], v["##s"], v["[SEP]"], 0, 0, 0]
        for split in SPLITS:
            arrays = load_split(output, split)
            exp = expected[split]
            for key in (
                "audio",
                "audio_mask",
                "vision",
                "vision_mask",
                "label",
            ):
                np.testing.assert_allclose(
                    arrays[key], exp[key], err_msg=key, rtol=1e-6
                )
            for i, row in enumerate(arrays["text_token_ids"]):
                self.assertEqual(row.tolist(), good if i % 2 else bad)
            self.assertEqual(arrays["id"][0], f"v_{split}0_1")
        self.assertEqual(read_attributes(output)["dataset"], "mosi")
        self.assertIn("zero lengths raised to 1: 3", out)
        self.assertIn("NaN 3", out)

    def test_missing_csv_row_is_an_error(self):
        release, _, rows = fixtures.mult_release(np.random.default_rng(9))
        source = fixtures.write_pickle(
            os.path.join(self.temp_dir, "m.pkl"), release
        )
        csv = os.path.join(self.temp_dir, "label.csv")
        with open(csv, "w", encoding="utf-8") as file:
            file.write("video_id,clip_id,text\n")
            for text, video, clip, _ in rows[1:]:
                file.write(f"{video},{clip},{text.replace(',', '')}\n")
        vocab = fixtures.write_vocab(os.path.join(self.temp_dir, "vocab.txt"))
        output = os.path.join(self.temp_dir, "out.h5")
        argv = [
            "--input",
            source,
            "--labels-csv",
            csv,
            "--output",
            output,
            "--vocabulary",
            vocab,
        ]
        code, _, err = _run(convert_mult_pickle.main, argv)
        self.assertEqual(code, 1)
        self.assertRegex(err, r"m\.pkl', split 'train'.*key 'id'.*label\.csv")
        self.assertFalse(os.path.exists(output))
        code, out, err = _run(
            convert_mult_pickle.main, argv + ["--missing-text", "empty"]
        )
        self.assertEqual(code, 0, err)
        self.assertIn("ids without a CSV row: 1", out)

    def test_mosi_release_named_mosei_is_refused(self):
        release, _, rows = fixtures.mult_release(np.random.default_rng(9))
        source = fixtures.write_pickle(
            os.path.join(self.temp_dir, "m.pkl"), release
        )
        csv = os.path.join(self.temp_dir, "label.csv")
        with open(csv, "w", encoding="utf-8") as file:
            file.write("video_id,clip_id,text\n")
            for text, video, clip, _ in rows:
                file.write(f"{video},{clip},{text.replace(',', '')}\n")
        vocab = fixtures.write_vocab(os.path.join(self.temp_dir, "vocab.txt"))
        output = os.path.join(self.temp_dir, "out.h5")
        argv = ["--input", source, "--labels-csv", csv, "--output", output]
        argv += ["--vocabulary", vocab, "--dataset", "mosei"]
        code, _, err = _run(convert_mult_pickle.main, argv)
        self.assertEqual(code, 1, err)
        self.assertRegex(
            err,
            r"m\.pkl', split 'train': key 'audio' has shape \(4, 7, 5\).*"
            r"dataset 'mosei' has audio width 74",
        )
        self.assertFalse(os.path.exists(output))
        code, _, err = _run(
            convert_mult_pickle.main, argv + ["--custom-features"]
        )
        self.assertEqual(code, 0, err)


class WordPieceTest(TestCase):
    def test_python_tokenizer_matches_bert_rules(self):
        vocab = fixtures.write_vocab(os.path.join(self.temp_dir, "vocab.txt"))
        tokenizer = wordpiece.make_tokenizer("python", vocab)
        v = {token: i for i, token in enumerate(fixtures.VOCAB)}
        self.assertEqual(
            tokenizer.tokenize("GOOD Movies!! Café xyz"),
            [
                v["good"],
                v["movie"],
                v["##s"],
                v["!"],
                v["!"],
                v["cafe"],
                v["[UNK]"],
            ],
        )

    def test_default_vocabulary_is_bert_uncased(self):
        tokenizer = wordpiece.make_tokenizer("python")
        ids, mask, _ = wordpiece.encode(
            tokenizer, ["A LOT OF SAD PARTS, unbelievably!"], 16
        )
        self.assertEqual(
            ids[0, :14].tolist(),
            [
                101,
                1037,
                2843,
                1997,
                6517,
                3033,
                1010,
                4895,
                8671,
                2666,
                3567,
                6321,
                999,
                102,
            ],
        )  # keras_hub.tokenizers.BertTokenizer gives the same ids
        self.assertEqual(mask[0].tolist(), [1] * 14 + [0, 0])


class CsdTest(TestCase):
    def _files(self, audio_extra=None):
        d = self.temp_dir
        frames = lambda n, w, off: (  # noqa: E731
            np.stack([np.arange(n) * 0.1, np.arange(n) * 0.1 + 0.1], 1),
            np.arange(n * w, dtype="float64").reshape(n, w) + off,
        )
        labels, audio, vision, words = {}, {}, {}, {}
        for j, video in enumerate(("vidA", "vidB", "vidC", "vidD")):
            labels[video] = (
                [[0.0, 0.5], [0.5, 1.0], [1.0, 1.0]],  # last: zero length
                np.asarray([[1.5], [-0.6], [0.0]]),
            )
            audio[video] = frames(10, 3, 1000 * j)
            vision[video] = frames(5, 2, -1000 * j)
            vision[video] = (vision[video][0] * 2, vision[video][1])  # 5 Hz
            words[video] = (
                [[0.0, 0.2], [0.2, 0.3], [0.3, 0.5], [0.6, 0.9]],
                np.asarray([[b"good"], [b"sp"], [b"movie"], [b"bad"]]),
            )
        audio["vidA"][1][2, 1] = -np.inf
        del vision["vidD"]  # missing from one sequence -> dropped
        if audio_extra:
            audio_extra(audio)
        paths = {
            "labels": fixtures.write_csd(
                f"{d}/L.csd", "Opinion Segment Labels", labels
            ),
            "audio": fixtures.write_csd(f"{d}/A.csd", "COVAREP", audio),
            "vision": fixtures.write_csd(f"{d}/V.csd", "FACET", vision),
            "words": fixtures.write_csd(f"{d}/W.csd", "words", words),
        }
        with open(f"{d}/folds.py", "w") as file:
            file.write(
                "standard_train_fold=['vidA','vidD']\n"
                "standard_valid_fold=['vidB']\nstandard_test_fold=['vidC']\n"
            )
        paths["folds"] = f"{d}/folds.py"
        paths["vocab"] = fixtures.write_vocab(f"{d}/vocab.txt")
        return paths

    def _argv(self, paths, output):
        return [
            "--labels",
            paths["labels"],
            "--audio",
            paths["audio"],
            "--vision",
            paths["vision"],
            "--words",
            paths["words"],
            "--folds",
            paths["folds"],
            "--dataset",
            "mosi",
            "--output",
            output,
            "--vocabulary",
            paths["vocab"],
            "--text-length",
            "6",
        ]

    def test_align_and_convert(self):
        paths = self._files()
        output = os.path.join(self.temp_dir, "out.h5")
        code, out, err = _run(convert_csd.main, self._argv(paths, output))
        self.assertEqual(code, 0, err)
        v = {token: i for i, token in enumerate(fixtures.VOCAB)}
        train = load_split(output, "train")
        self.assertEqual(train["id"].tolist(), ["vidA[0]", "vidA[1]"])
        np.testing.assert_allclose(train["label"], [1.5, -0.6], rtol=1e-6)
        # Audio frames [0.1 t, 0.1 t + 0.1]: segment [0, 0.5] holds frames
        # 0..4 (frame 5 only touches it), segment [0.5, 1] frames 5..9.
        audio = np.arange(30, dtype="float32").reshape(10, 3)
        audio[2, 1] = 0.0  # -inf cleaned
        np.testing.assert_allclose(train["audio"][0], audio[:5])
        np.testing.assert_allclose(train["audio"][1], audio[5:])
        np.testing.assert_array_equal(train["audio_mask"], np.ones((2, 5)))
        # Vision frames [0.2 t, 0.2 t + 0.2]: frame 2 ([0.4, 0.6]) overlaps
        # both segments.
        vision = np.arange(10, dtype="float32").reshape(5, 2)
        np.testing.assert_allclose(train["vision"][0], vision[:3])
        np.testing.assert_allclose(train["vision"][1], vision[2:])
        np.testing.assert_array_equal(train["vision_mask"], np.ones((2, 3)))
        self.assertEqual(train["raw_text"].tolist(), ["good movie", "bad"])
        self.assertEqual(
            train["text_token_ids"].tolist(),
            [
                [v["[CLS]"], v["good"], v["movie"], v["[SEP]"], 0, 0],
                [v["[CLS]"], v["bad"], v["[SEP]"], 0, 0, 0],
            ],
        )
        test = load_split(output, "test")
        np.testing.assert_allclose(
            test["audio"][0],
            np.arange(15, dtype="float32").reshape(5, 3) + 2000,
        )
        self.assertEqual(
            load_split(output, "valid")["id"].tolist(), ["vidB[0]", "vidB[1]"]
        )
        self.assertIn("1 videos missing from a sequence", out)
        self.assertIn("3 zero-length label intervals", out)
        self.assertIn("-inf 1", out)

    def test_json_folds_and_truncation(self):
        paths = self._files()
        with open(f"{self.temp_dir}/folds.json", "w") as file:
            json.dump(
                {"train": ["vidA"], "valid": ["vidB"], "test": ["vidC"]}, file
            )
        paths["folds"] = f"{self.temp_dir}/folds.json"
        output = os.path.join(self.temp_dir, "out.h5")
        code, out, err = _run(
            convert_csd.main,
            self._argv(paths, output) + ["--audio-length", "3"],
        )
        self.assertEqual(code, 0, err)
        train = load_split(output, "train")
        self.assertEqual(train["audio"].shape, (2, 3, 3))
        self.assertIn("truncated: audio 6", out)

    def test_bad_csd_names_file_entry_key(self):
        def bad(audio):
            audio["vidB"] = (audio["vidB"][0], audio["vidB"][1][:4])

        paths = self._files(bad)
        output = os.path.join(self.temp_dir, "out.h5")
        code, _, err = _run(convert_csd.main, self._argv(paths, output))
        self.assertEqual(code, 1)
        self.assertRegex(err, r"A\.csd', entry 'vidB'.*'features'.*\(4, 3\)")
        self.assertFalse(os.path.exists(output))

    def test_not_a_csd(self):
        paths = self._files()
        with open(paths["audio"], "wb") as file:
            file.write(b"not hdf5")
        code, _, err = _run(
            convert_csd.main,
            self._argv(paths, os.path.join(self.temp_dir, "out.h5")),
        )
        self.assertEqual(code, 1)
        self.assertIn("A.csd' is not a readable HDF5", err)


class HelpTest(TestCase):
    @parameterized.parameters(
        (convert_mmsa_pickle, "thuiar/MMSA"),
        (convert_mult_pickle, "Multimodal-Infomax"),
        (convert_csd, "CMU-MultimodalSDK"),
    )
    def test_help_names_the_release(self, module, source):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit):
            module.main(["--help"])
        self.assertIn(source, out.getvalue())


class CsdFoldsShapeTest(TestCase):
    """Folds files of the wrong shape: one error naming file and key."""

    _files = CsdTest._files
    _argv = CsdTest._argv

    @parameterized.named_parameters(
        ("json_list", "json", ["vidA", "vidB", "vidC"], r"JSON object.*list"),
        (
            "json_string_fold",
            "json",
            {"train": "vidA", "valid": ["vidB"], "test": ["vidC"]},
            r"key 'train' must be a list .* str of length 4",
        ),
        (
            "json_nested",
            "json",
            {"train": [["vidA"]], "valid": ["vidB"], "test": ["vidC"]},
            r"key 'train' \(shape \(1,\)\).*item 0 is a list",
        ),
        (
            "json_empty",
            "json",
            {"train": ["vidA"], "valid": [], "test": ["vidC"]},
            r"key 'valid' is an empty list \(shape \(0,\)\)",
        ),
        (
            "json_overlap",
            "json",
            {"train": ["vidA", "vidC"], "valid": ["vidB"], "test": ["vidC"]},
            r"keys 'train' and 'test' share 1 video.*vidC",
        ),
        (
            "py_number",
            "py",
            "standard_train_fold=5\nstandard_valid_fold=['vidB']\n"
            "standard_test_fold=['vidC']\n",
            r"key 'standard_train_fold' must be a list .* got a int",
        ),
        (
            "py_dict",
            "py",
            "standard_train_fold={'vidA': 1}\nstandard_valid_fold=['vidB']\n"
            "standard_test_fold=['vidC']\n",
            r"key 'standard_train_fold' must be a list .* dict of length 1",
        ),
    )
    def test_wrong_shape_is_one_error(self, kind, content, pattern):
        paths = self._files()
        folds = os.path.join(self.temp_dir, f"bad_folds.{kind}")
        with open(folds, "w") as file:
            if kind == "json":
                json.dump(content, file)
            else:
                file.write(content)
        paths["folds"] = folds
        output = os.path.join(self.temp_dir, "out.h5")
        code, _, err = _run(convert_csd.main, self._argv(paths, output))
        self.assertEqual(code, 1, err)
        self.assertIn(f"Folds file '{folds}'", err)
        self.assertRegex(err, pattern)
        self.assertNotIn("Traceback", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(output))

"""Converts CMU-MultimodalSDK computational sequences (.csd) to the standard
msakeras HDF5 file.

Source release: A2Zadeh/CMU-MultimodalSDK (https://github.com/A2Zadeh/
CMU-MultimodalSDK), `mmdatasdk` standard datasets CMU-MOSI and CMU-MOSEI,
e.g. `CMU_MOSI_Opinion_Labels.csd`, `CMU_MOSI_COVAREP.csd`,
`CMU_MOSI_Visual_Facet_41.csd`, `CMU_MOSI_TimestampedWords.csd` (MOSEI:
`CMU_MOSEI_Labels.csd`, `CMU_MOSEI_COVAREP.csd`, `CMU_MOSEI_VisualFacet42.csd`,
`CMU_MOSEI_TimestampedWords.csd`). Layout: `docs/protocol.md`

What it does (the SDK's `mmdataset.align(<labels>)` without collapse
functions, then `get_tensors(..., direction=True)` with standard folds):

- The label sequence is the reference. Each label interval `k` of video
  `v` becomes segment `v[k]` (intervals shorter than 1e-5 s are skipped,
  as the SDK does). Label = feature column 0 (MOSEI: sentiment of the
  7 columns).
- Audio, vision and word rows whose `[start, end]` interval overlaps the
  segment (SDK test with epsilon 1e-5, touching intervals included, then
  clipped intersections of zero length dropped) are the segment's frames,
  in file order.
- Videos missing from any sequence, and segments with no audio, vision or
  word rows, are dropped (the SDK's unify / hard_unify) and counted.
- Words: `sp` (speech pause) tokens and empty tokens are removed, the rest
  joined with spaces (`raw_text`) and tokenised with the uncased BERT
  WordPiece vocabulary (`[CLS] ... [SEP]`, 50 tokens).
- Already-aligned sequences (entry ids `v[k]` in the label file) are
  taken as they are, matched by id.
- Splits come from `--folds`: the SDK's `cmu_mosi_std_folds.py` /
  `cmu_mosei_std_folds.py` (read with `ast`, never executed) or a JSON
  file `{"train": [...], "valid": [...], "test": [...]}` of video ids.
  Videos in no fold are dropped and counted.
- Audio/vision are right-padded to the longest segment, or truncated to
  the first `--audio-length` / `--vision-length` frames. NaN/±inf -> 0.

Not supported (refused or ignored): collapse functions (averaging into one
vector per word), imputation, GloVe/BERT word-vector sequences as text
(use `--words` with TimestampedWords), and label sequences whose entries
have no intervals.

Example:

    python -m data_prep.convert_csd --dataset mosi \\
        --labels CMU_MOSI_Opinion_Labels.csd --audio CMU_MOSI_COVAREP.csd \\
        --vision CMU_MOSI_Visual_Facet_41.csd \\
        --words CMU_MOSI_TimestampedWords.csd \\
        --folds cmu_mosi_std_folds.py --audio-length 375 \\
        --vision-length 500 --output data/mosi_sdk.h5
"""

import argparse
import ast
import json
import os
import sys

import numpy as np

if __package__ in (None, ""):  # run as a script: make `data_prep` importable
    sys.path.insert(
        0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    from data_prep import _common
    from data_prep import wordpiece
    from data_prep._common import ConversionError
else:  # data_prep.X or the installed msakeras.data_prep.X
    from . import _common
    from . import wordpiece
    from ._common import ConversionError

from msakeras.data import hdf5_safety  # noqa: E402

SPLITS = ("train", "valid", "test")
DATASETS = ("mosi", "mosei")
EPSILON = 10e-6  # mmsdk dataset.py: "epsilon=10e-6"
PAUSE_TOKENS = ("sp", "")
FOLD_NAMES = {
    "train": "standard_train_fold",
    "valid": "standard_valid_fold",
    "test": "standard_test_fold",
}


class CsdFile:
    """A computational sequence read lazily with h5py (no code runs)."""

    def __init__(self, path, role):
        import h5py

        self.path = os.fspath(path)
        self.role = role
        if not os.path.isfile(self.path):
            raise FileNotFoundError(
                f"{role} file '{self.path}' does not exist."
            )
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as error:
            raise ConversionError(
                f"{role} file '{self.path}' is not a readable HDF5 (.csd) "
                f"file: {error}"
            ) from None
        try:
            hdf5_safety.check_self_contained(self.file, self.path, role)
        except ValueError as error:
            self.file.close()
            raise ConversionError(str(error)) from None
        roots = [
            name
            for name, item in self.file.items()
            if isinstance(item, h5py.Group) and "data" in item
        ]
        if len(roots) != 1:
            self.file.close()
            raise ConversionError(
                f"{role} file '{self.path}': expected one root group with a "
                f"'data' group (/<root name>/data/<entry>/features), found "
                f"top-level keys {list(self.file.keys())}."
            )
        self.root = roots[0]
        self.data = self.file[self.root]["data"]
        self.metadata = {}
        if "metadata" in self.file[self.root]:
            for key, item in self.file[self.root]["metadata"].items():
                try:
                    value = item[()]
                    if isinstance(value, np.ndarray) and value.size:
                        value = value.reshape(-1)[0]
                    if isinstance(value, bytes):
                        value = value.decode("utf-8")
                    try:
                        value = json.loads(value)
                    except (TypeError, ValueError):
                        pass
                    self.metadata[key] = value
                except Exception:  # metadata is informative only
                    continue
        self.entries = list(self.data.keys())
        self._by_video = {}
        for entry in self.entries:
            self._by_video.setdefault(entry.split("[")[0], []).append(entry)

    def close(self):
        self.file.close()

    def read(self, entry):
        """(intervals (n, 2) float64, features (n, D)) of one entry."""
        location = f"{self.role} file '{self.path}', entry '{entry}'"
        group = self.data[entry]
        for key in ("features", "intervals"):
            if key not in group:
                raise ConversionError(
                    f"{location}: missing key '{key}'; present keys are "
                    f"{sorted(group.keys())}."
                )
        intervals = np.asarray(group["intervals"][()], dtype=np.float64)
        features = group["features"][()]
        if intervals.ndim != 2 or intervals.shape[1] != 2:
            raise ConversionError(
                f"{location}: key 'intervals' must have shape (n, 2), got "
                f"{tuple(intervals.shape)}."
            )
        if features.ndim != 2 or features.shape[0] != intervals.shape[0]:
            raise ConversionError(
                f"{location}: key 'features' must have shape (n, D) with n = "
                f"{intervals.shape[0]} rows like 'intervals', got "
                f"{tuple(features.shape)}."
            )
        return intervals, features

    def videos(self):
        return set(self._by_video)

    def read_video(self, video):
        """All entries of a video (`v` and `v[k]`) concatenated, as the SDK."""
        parts = [self.read(entry) for entry in self._by_video.get(video, [])]
        if not parts:
            return None
        return (
            np.concatenate([p[0] for p in parts], axis=0),
            np.concatenate([p[1] for p in parts], axis=0),
        )


def intersect(reference, intervals, features, epsilon=EPSILON):
    """Rows overlapping `reference` (the SDK's `__intersect_and_copy`)."""
    start, end = reference
    overlaps = (end - intervals[:, 0] > -epsilon) & (
        intervals[:, 1] - start > -epsilon
    )
    clipped_start = np.maximum(intervals[overlaps, 0], start)
    clipped_end = np.minimum(intervals[overlaps, 1], end)
    keep = np.abs(clipped_start - clipped_end) > epsilon
    return features[overlaps][keep]


def _fold_ids(path, key, value):
    """The video ids of one fold: a non-empty list of strings (or ints)."""
    kind = type(value).__name__
    if hasattr(value, "__len__"):
        kind += f" of length {len(value)}"
    if not isinstance(value, (list, tuple)):
        raise ConversionError(
            f"Folds file '{path}': key '{key}' must be a list of video id "
            f"strings, got a {kind}."
        )
    if not value:
        raise ConversionError(
            f"Folds file '{path}': key '{key}' is an empty list (shape (0,)); "
            "every split needs video ids."
        )
    for position, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise ConversionError(
                f"Folds file '{path}': key '{key}' (shape ({len(value)},)) "
                f"must hold video id strings; item {position} is a "
                f"{type(item).__name__} ({item!r:.60})."
            )
    return set(map(str, value))


def _checked_folds(path, folds, keys):
    """Refuses a video in two splits (the test fold would leak)."""
    for i, first in enumerate(SPLITS):
        for second in SPLITS[i + 1 :]:
            shared = sorted(folds[first] & folds[second])
            if shared:
                raise ConversionError(
                    f"Folds file '{path}': keys '{keys[first]}' and "
                    f"'{keys[second]}' share {len(shared)} video id(s), "
                    f"e.g. {shared[:3]}; each video belongs to one split."
                )
    return folds


def read_folds(path):
    """{split: set of video ids} from an SDK folds .py (ast) or JSON.

    Each fold must be a non-empty list of video id strings and no video
    may sit in two folds; anything else is one `ConversionError` naming
    the file, the key and its shape.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Folds file '{path}' does not exist.")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    folds = {}
    if path.endswith(".json"):
        try:
            loaded = json.loads(text)
        except ValueError as error:
            raise ConversionError(
                f"Folds file '{path}' is not valid JSON: {error}"
            ) from None
        if not isinstance(loaded, dict):
            raise ConversionError(
                f"Folds file '{path}': expected a JSON object "
                f'{{"train": [...], "valid": [...], "test": [...]}}, got a '
                f"{type(loaded).__name__}."
            )
        for split in SPLITS:
            if split not in loaded:
                raise ConversionError(
                    f"Folds file '{path}': missing key '{split}'; keys are "
                    f"{sorted(loaded)}."
                )
            folds[split] = _fold_ids(path, split, loaded[split])
        return _checked_folds(path, folds, {split: split for split in SPLITS})
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        raise ConversionError(
            f"Folds file '{path}' is neither JSON nor Python: {error}"
        ) from None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    for split, name in FOLD_NAMES.items():
        if name not in values:
            raise ConversionError(
                f"Folds file '{path}': no literal list '{name}' (the SDK's "
                "standard folds file defines standard_train_fold, "
                "standard_valid_fold and standard_test_fold)."
            )
        folds[split] = _fold_ids(path, name, values[name])
    return _checked_folds(path, folds, FOLD_NAMES)


def _words_text(features):
    tokens = []
    for value in features.reshape(-1).tolist():
        token = (
            value.decode("utf-8") if isinstance(value, bytes) else str(value)
        )
        token = token.strip()
        if token not in PAUSE_TOKENS:
            tokens.append(token)
    return " ".join(tokens)


def _pad(sequences, steps, width):
    out = np.zeros((len(sequences), steps, width), dtype=np.float32)
    lengths = np.zeros(len(sequences), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        length = min(len(sequence), steps)
        out[row, :length] = sequence[:length]
        lengths[row] = length
    return out, _common.mask_from_lengths(lengths, steps), lengths


def convert(
    labels,
    audio,
    vision,
    words,
    folds,
    output_path,
    dataset,
    force=False,
    audio_length=None,
    vision_length=None,
    text_length=50,
    tokenizer="python",
    vocabulary=None,
):
    """Aligns and converts .csd files; returns a `Summary`."""

    output_path = os.fspath(output_path)
    inputs = [labels, audio, vision, words, folds]
    _common.check_output(output_path, force, inputs)
    if dataset not in DATASETS:
        raise ConversionError(
            f"Unknown dataset {dataset!r}; expected one of {DATASETS}."
        )
    fold_sets = read_folds(folds)
    try:
        text_tokenizer = wordpiece.make_tokenizer(tokenizer, vocabulary)
    except (ImportError, OSError, ValueError) as error:
        raise ConversionError(f"Tokenizer: {error}") from None
    files = {}
    try:
        for role, path in (
            ("labels", labels),
            ("audio", audio),
            ("vision", vision),
            ("words", words),
        ):
            files[role] = CsdFile(path, role)
        return _convert(
            files,
            fold_sets,
            output_path,
            dataset,
            force,
            {"audio": audio_length, "vision": vision_length},
            text_length,
            text_tokenizer,
            vocabulary,
        )
    finally:
        for file in files.values():
            file.close()


def _convert(
    files,
    fold_sets,
    output_path,
    dataset,
    force,
    max_lengths,
    text_length,
    text_tokenizer,
    vocabulary,
):
    from msakeras.data import write_dataset

    reference = files["labels"]
    facts = {
        "short_reference": 0,
        "videos_missing": 0,
        "segments_empty": {"audio": 0, "vision": 0, "words": 0},
        "videos_without_fold": 0,
        "nan_labels": 0,
        "truncated": {"audio": 0, "vision": 0},
        "non_finite": {"audio": [], "vision": []},
    }
    widths = {}
    collected = {
        s: {"id": [], "label": [], "text": [], "audio": [], "vision": []}
        for s in SPLITS
    }
    pre_aligned = all("[" in entry for entry in reference.entries)
    other_videos = [files[r].videos() for r in ("audio", "vision", "words")]
    videos = sorted(reference.videos())
    for video in videos:
        if not all(video in found for found in other_videos):
            facts["videos_missing"] += 1
            continue
        split = next((s for s in SPLITS if video in fold_sets[s]), None)
        if split is None:
            facts["videos_without_fold"] += 1
            continue
        if pre_aligned:
            segments = []
            for entry in sorted(
                reference._by_video[video],
                key=lambda e: int(e.split("[")[1].rstrip("]") or 0),
            ):
                _, label_features = reference.read(entry)
                parts = {}
                for role in ("audio", "vision", "words"):
                    if entry in files[role].data:
                        parts[role] = files[role].read(entry)[1]
                    else:
                        parts[role] = None
                segments.append((entry, label_features[0], parts))
        else:
            ref_intervals, ref_features = reference.read_video(video)
            streams = {
                role: files[role].read_video(video)
                for role in ("audio", "vision", "words")
            }
            segments = []
            for k in range(ref_intervals.shape[0]):
                interval = ref_intervals[k]
                if abs(interval[0] - interval[1]) < EPSILON:
                    facts["short_reference"] += 1
                    continue
                parts = {
                    role: intersect(interval, *streams[role])
                    for role in streams
                }
                segments.append((f"{video}[{k}]", ref_features[k], parts))
        for entry, label_row, parts in segments:
            empty = [
                role
                for role in ("audio", "vision", "words")
                if parts[role] is None or parts[role].shape[0] == 0
            ]
            if empty:
                for role in empty:
                    facts["segments_empty"][role] += 1
                continue
            label = float(
                np.asarray(label_row, dtype=np.float64).reshape(-1)[0]
            )
            if not np.isfinite(label):
                facts["nan_labels"] += 1
                continue
            text = _words_text(parts["words"])
            if not text:
                facts["segments_empty"]["words"] += 1
                continue
            target = collected[split]
            target["id"].append(entry)
            target["label"].append(label)
            target["text"].append(text)
            for role in ("audio", "vision"):
                features = parts[role]
                if features.dtype.kind not in "biuf":
                    raise ConversionError(
                        f"{role} file '{files[role].path}', entry "
                        f"'{entry}': key 'features' must be numeric, got "
                        f"dtype {features.dtype}."
                    )
                width = widths.setdefault(role, features.shape[1])
                if features.shape[1] != width:
                    raise ConversionError(
                        f"{role} file '{files[role].path}', video '{video}':"
                        f" key 'features' has width {features.shape[1]}, "
                        f"other entries have {width}."
                    )
                cleaned, counts = _common.clean_non_finite(features)
                facts["non_finite"][role].append(counts)
                target[role].append(cleaned)

    empty_splits = [s for s in SPLITS if not collected[s]["id"]]
    if empty_splits:
        raise ConversionError(
            f"No segment left for split(s) {empty_splits} after alignment "
            f"(labels '{reference.path}'; check that --folds names the "
            "videos of these files); dropped: "
            f"{facts['videos_missing']} videos missing from a sequence, "
            f"{facts['videos_without_fold']} videos in no fold, empty "
            f"segments {facts['segments_empty']}."
        )
    steps = {}
    for role in ("audio", "vision"):
        longest = max(len(x) for s in SPLITS for x in collected[s][role])
        steps[role] = max_lengths[role] or longest
    splits = {}
    lengths_by_role = {"audio": [], "vision": [], "text": []}
    truncated_text = 0
    for split in SPLITS:
        target = collected[split]
        token_ids, text_mask, cut = wordpiece.encode(
            text_tokenizer, target["text"], text_length
        )
        truncated_text += cut
        lengths_by_role["text"].append(text_mask.sum(axis=1))
        arrays = {"text_token_ids": token_ids, "text_padding_mask": text_mask}
        for role in ("audio", "vision"):
            raw_lengths = np.asarray([len(x) for x in target[role]])
            facts["truncated"][role] += int(
                np.count_nonzero(raw_lengths > steps[role])
            )
            features, mask, lengths = _pad(
                target[role], steps[role], widths[role]
            )
            arrays[role] = features
            arrays[f"{role}_mask"] = mask
            lengths_by_role[role].append(lengths)
        num = len(target["id"])
        arrays["label"] = np.asarray(target["label"], dtype=np.float32)
        arrays["index"] = np.arange(num, dtype=np.int32)
        arrays["id"] = np.asarray(target["id"], dtype=str)
        arrays["raw_text"] = np.asarray(target["text"], dtype=str)
        splits[split] = arrays

    attributes = {
        "dataset": dataset,
        "source_release": "CMU-MultimodalSDK csd "
        + ", ".join(
            os.path.basename(files[r].path)
            for r in ("labels", "audio", "vision", "words")
        ),
        "text_vocabulary": "bert_base_uncased"
        if vocabulary is None
        else f"wordpiece:{os.path.basename(os.fspath(vocabulary))}",
        "converter": "data_prep/convert_csd.py",
        "tokenizer": text_tokenizer.name,
    }
    try:
        write_dataset(output_path, splits, attributes, overwrite=force)
    except ValueError as error:
        raise ConversionError(
            f"Converting '{reference.path}': {error}"
        ) from None

    summary = _common.Summary(
        f"Converted CMU-MultimodalSDK sequences -> '{output_path}'"
    )
    summary.add(
        f"dataset: {dataset}; reference: labels '{reference.path}' (root "
        f"'{reference.root}', "
        + (
            "already aligned entries"
            if pre_aligned
            else "aligned by the SDK's interval intersection"
        )
        + ")"
    )
    counts = {s: int(splits[s]["label"].shape[0]) for s in SPLITS}
    summary.add("segments: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    summary.add(
        f"text: {text_length} tokens; audio: {steps['audio']} x "
        f"{widths['audio']}; vision: {steps['vision']} x {widths['vision']}"
    )
    for role in ("text", "audio", "vision"):
        summary.add(
            f"{role} lengths: {_common.percentiles(lengths_by_role[role])}"
        )
    summary.add(
        f"dropped: {facts['videos_missing']} videos missing from a sequence; "
        f"{facts['videos_without_fold']} videos in no fold; "
        f"{facts['short_reference']} zero-length label intervals; segments "
        f"with no rows {facts['segments_empty']}; "
        f"{facts['nan_labels']} NaN labels"
    )
    summary.add(
        f"truncated: audio {facts['truncated']['audio']}, vision "
        f"{facts['truncated']['vision']}, text {truncated_text}; padding: "
        "right"
    )
    for role in ("audio", "vision"):
        nf = _common.sum_counts(facts["non_finite"][role])
        summary.add(
            f"{role} cleaned values: NaN {nf.get('nan', 0)}, +inf "
            f"{nf.get('+inf', 0)}, -inf {nf.get('-inf', 0)} (set to 0)"
        )
    summary.facts = {
        "counts": counts,
        "videos_missing": facts["videos_missing"],
        "videos_without_fold": facts["videos_without_fold"],
        "segments_empty": facts["segments_empty"],
        "non_finite": {
            r: _common.sum_counts(facts["non_finite"][r])
            for r in ("audio", "vision")
        },
    }
    return summary


def build_parser():
    parser = argparse.ArgumentParser(
        prog="convert_csd",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "--labels",
        required=True,
        help="label sequence (.csd), the alignment reference.",
    )
    parser.add_argument("--audio", required=True, help="acoustic .csd.")
    parser.add_argument("--vision", required=True, help="visual .csd.")
    parser.add_argument(
        "--words", required=True, help="TimestampedWords .csd (text)."
    )
    parser.add_argument(
        "--folds",
        required=True,
        help="SDK std folds .py (parsed, not run) or JSON.",
    )
    parser.add_argument(
        "--output", required=True, help="standard msakeras HDF5 file (.h5)."
    )
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument(
        "--audio-length",
        type=int,
        default=None,
        help="frames kept (first N); default: longest.",
    )
    parser.add_argument(
        "--vision-length",
        type=int,
        default=None,
        help="frames kept (first N); default: longest.",
    )
    parser.add_argument(
        "--text-length", type=int, default=50, help="tokens incl. CLS/SEP."
    )
    parser.add_argument(
        "--tokenizer",
        choices=("python", "keras_hub"),
        default="python",
        help="WordPiece implementation (data_prep/wordpiece.py).",
    )
    parser.add_argument(
        "--vocabulary",
        default=None,
        help="vocab.txt; default: bundled bert-base-uncased.",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing output."
    )
    return parser


def main(argv=None):
    return _common.run_main(
        build_parser(),
        convert,
        argv,
        lambda args: dict(
            labels=args.labels,
            audio=args.audio,
            vision=args.vision,
            words=args.words,
            folds=args.folds,
            output_path=args.output,
            dataset=args.dataset,
            force=args.force,
            audio_length=args.audio_length,
            vision_length=args.vision_length,
            text_length=args.text_length,
            tokenizer=args.tokenizer,
            vocabulary=args.vocabulary,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

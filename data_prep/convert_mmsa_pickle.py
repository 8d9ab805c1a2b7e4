"""Converts an MMSA feature pickle to the standard msakeras HDF5 file.

Source release: thuiar/MMSA (https://github.com/thuiar/MMSA), the
"Processed" feature pickles linked from its README (Google Drive / Baidu):
`MOSI/Processed/{aligned,unaligned}_50.pkl`,
`MOSEI/Processed/{aligned,unaligned}_50.pkl`,
`SIMS/Processed/unaligned_39.pkl`, and same-layout MMSA-FET output. Layout
and quirks: `docs/protocol.md`

Each split's `text_bert` (N, 3, L) gives token ids, the text mask and
segment ids; `audio`/`vision` masks come from `audio_lengths` /
`vision_lengths` (aligned files: from the text mask); frames past the
length are zeroed and counted (real MOSI has non-zero frames there);
NaN/±inf become 0 and are counted; left padding is detected and moved to
the right. The pickle is read with a restricted unpickler (NumPy arrays and
plain containers only).

Example:

    python -m data_prep.convert_mmsa_pickle \\
        --input MOSI/Processed/unaligned_50.pkl --output data/mosi.h5
"""

import argparse
import os
import sys

import numpy as np

if __package__ in (None, ""):  # run as a script: make `data_prep` importable
    sys.path.insert(
        0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    from data_prep import _common
    from data_prep import safe_pickle
    from data_prep._common import ConversionError
else:  # data_prep.X or the installed msakeras.data_prep.X
    from . import _common
    from . import safe_pickle
    from ._common import ConversionError


SPLITS = ("train", "valid", "test")
DATASETS = ("mosi", "mosei", "sims")
# (audio width, vision width) of the real releases (`docs/protocol.md`).
KNOWN_WIDTHS = {(5, 20): "mosi", (74, 35): "mosei", (33, 709): "sims"}
TEXT_VOCABULARY = {
    "mosi": "bert_base_uncased",
    "mosei": "bert_base_uncased",
    "sims": "bert_base_chinese",
}
UNIMODAL_LABELS = {
    "regression_labels_T": "label_text",
    "regression_labels_A": "label_audio",
    "regression_labels_V": "label_vision",
}


def _get(split_data, key, location, required=True):
    if key not in split_data:
        if not required:
            return None
        raise ConversionError(
            f"{location}: missing key '{key}'; present keys are "
            f"{sorted(map(str, split_data))}."
        )
    return _common.to_array(split_data[key], key, location)


def _read_split(split_data, location):
    """Pulls and checks the raw arrays of one split (no cleaning yet)."""
    if not isinstance(split_data, dict):
        raise ConversionError(
            f"{location}: expected a dict of arrays, got "
            f"{type(split_data).__name__}."
        )
    if "text_bert" not in split_data and "text" in split_data:
        raise ConversionError(
            f"{location}: missing key 'text_bert' (BERT token ids); this "
            "file only has 'text' (BERT features), which msakeras models "
            "cannot use."
        )
    raw = {}
    labels = _get(split_data, "regression_labels", location)
    _common.check_numeric(labels, "regression_labels", location)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    _common.check_rank(labels, 1, "regression_labels", location, " (N,)")
    num = labels.shape[0]
    if num == 0:
        raise ConversionError(f"{location}: key 'regression_labels' is empty.")
    raw["label"] = labels

    text_bert = _get(split_data, "text_bert", location)
    _common.check_numeric(text_bert, "text_bert", location)
    if text_bert.ndim != 3 or text_bert.shape[1] != 3:
        raise ConversionError(
            f"{location}: key 'text_bert' must have shape (N, 3, L) "
            "(input_ids, attention_mask, token_type_ids), got shape "
            f"{tuple(text_bert.shape)}."
        )
    _common.check_count(
        text_bert, num, "text_bert", location, "regression_labels"
    )
    raw["text_bert"] = text_bert

    for modality in ("audio", "vision"):
        features = _get(split_data, modality, location)
        _common.check_numeric(features, modality, location)
        _common.check_rank(features, 3, modality, location, " (N, T, F)")
        _common.check_count(
            features, num, modality, location, "regression_labels"
        )
        if features.shape[1] == 0 or features.shape[2] == 0:
            raise ConversionError(
                f"{location}: key '{modality}' has shape "
                f"{tuple(features.shape)}; steps and width must be positive."
            )
        raw[modality] = features
        lengths = _get(split_data, f"{modality}_lengths", location, False)
        if lengths is not None:
            key = f"{modality}_lengths"
            if lengths.ndim == 2 and lengths.shape[1] == 1:
                lengths = lengths[:, 0]
            _common.check_rank(lengths, 1, key, location, " (N,)")
            _common.check_count(
                lengths, num, key, location, "regression_labels"
            )
            raw[f"{modality}_lengths"] = _common.integer_lengths(
                lengths, features.shape[1], key, location
            )

    ids = _get(split_data, "id", location)
    if ids.ndim == 2 and ids.shape[1] == 1:
        ids = ids[:, 0]
    _common.check_rank(ids, 1, "id", location, " (N,)")
    _common.check_count(ids, num, "id", location, "regression_labels")
    raw["id"] = ids
    raw_text = _get(split_data, "raw_text", location, required=False)
    if raw_text is not None:
        _common.check_rank(raw_text, 1, "raw_text", location, " (N,)")
        _common.check_count(
            raw_text, num, "raw_text", location, "regression_labels"
        )
        raw["raw_text"] = raw_text
    for source in UNIMODAL_LABELS:
        value = _get(split_data, source, location, required=False)
        if value is None:
            continue
        _common.check_numeric(value, source, location)
        if value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        _common.check_rank(value, 1, source, location, " (N,)")
        _common.check_count(value, num, source, location, "regression_labels")
        raw[source] = value
    return raw


def infer_dataset(raws, path):
    """mosi / mosei / sims from the feature widths (`docs/protocol.md`)."""
    train = raws[SPLITS[0]]
    widths = (train["audio"].shape[2], train["vision"].shape[2])
    if widths in KNOWN_WIDTHS:
        return KNOWN_WIDTHS[widths]
    if "regression_labels_T" in train:
        return "sims"
    raise ConversionError(
        f"File '{path}': cannot infer the dataset from audio width "
        f"{widths[0]} and vision width {widths[1]} (known: MOSI 5/20, MOSEI "
        "74/35, SIMS 33/709); pass --dataset."
    )


def _text(raw, location, facts):
    text_bert = raw["text_bert"]
    ids = text_bert[:, 0]
    mask = text_bert[:, 1]
    segments = text_bert[:, 2]
    for name, values in (("input_ids", ids), ("token_type_ids", segments)):
        if not np.all(np.isfinite(values)) or np.any(np.rint(values) != values):
            raise ConversionError(
                f"{location}: key 'text_bert' with shape "
                f"{tuple(text_bert.shape)}: row {name} must hold whole "
                "numbers."
            )
        if np.any(values < 0):
            raise ConversionError(
                f"{location}: key 'text_bert' with shape "
                f"{tuple(text_bert.shape)}: row {name} holds negative ids."
            )
    if not np.all((mask == 0) | (mask == 1)):
        raise ConversionError(
            f"{location}: key 'text_bert' with shape {tuple(text_bert.shape)}:"
            " row attention_mask must hold only 0 and 1."
        )
    ids = ids.astype(np.int64)
    segments = segments.astype(np.int64)
    mask = mask.astype(np.int8)
    # Text padding must be on the right; move real tokens first if not.
    left = np.any(np.diff(mask, axis=1) > 0, axis=1)
    if np.any(left):
        order = np.argsort(-mask, axis=1, kind="stable")
        ids = np.take_along_axis(ids, order, axis=1)
        segments = np.take_along_axis(segments, order, axis=1)
        mask = np.take_along_axis(mask, order, axis=1)
    facts["text_moved_right"] += int(np.count_nonzero(left))
    stray = (mask == 0) & ((ids != 0) | (segments != 0))
    facts["text_ids_past_mask_zeroed"] += int(np.count_nonzero(stray))
    ids[mask == 0] = 0
    segments[mask == 0] = 0
    return ids.astype(np.int32), mask, segments.astype(np.int32)


def _features(raw, modality, text_mask, padding, facts):
    """Cleaned, right-padded features and lengths of one modality."""
    features, counts = _common.clean_non_finite(raw[modality])
    facts[f"{modality}_non_finite"].append(counts)
    frames = _common.nonzero_frames(features)
    steps = features.shape[1]
    lengths = raw.get(f"{modality}_lengths")
    if lengths is None:
        if steps == text_mask.shape[1]:
            lengths = text_mask.sum(axis=1).astype(np.int64)
            facts[f"{modality}_length_source"].add("text mask (aligned file)")
        else:
            reversed_frames = frames[:, ::-1]
            last = steps - np.argmax(reversed_frames, axis=1)
            lengths = np.where(np.any(frames, axis=1), last, 0)
            facts[f"{modality}_length_source"].add(
                "last non-zero frame (no lengths key, steps != text length)"
            )
        side = "right"
    else:
        facts[f"{modality}_length_source"].add(f"'{modality}_lengths'")
        right, left = _common.padding_votes(frames, lengths)
        facts[f"{modality}_votes"][0] += right
        facts[f"{modality}_votes"][1] += left
        side = padding
        if padding == "auto":
            side = "left" if left > right else "right"
    if side == "left":
        facts[f"{modality}_left_padded_samples"] += features.shape[0]
        head = np.arange(steps)[None, :] < (steps - lengths)[:, None]
        outside = frames & head
        facts[f"{modality}_outside_sequences"] += int(
            np.count_nonzero(np.any(outside, axis=1))
        )
        facts[f"{modality}_outside_frames"] += int(np.count_nonzero(outside))
        features = _common.left_to_right(features, lengths)
    else:
        sequences, count = _common.zero_past_lengths(features, frames, lengths)
        facts[f"{modality}_outside_sequences"] += sequences
        facts[f"{modality}_outside_frames"] += count
    zero_length = lengths == 0
    facts[f"{modality}_zero_lengths"] += int(np.count_nonzero(zero_length))
    lengths = np.maximum(lengths, 1)
    mask = _common.mask_from_lengths(lengths, steps)
    inside_zero = (~_common.nonzero_frames(features)) & (mask == 1)
    facts[f"{modality}_zero_frames_inside"] += int(
        np.count_nonzero(np.any(inside_zero, axis=1) & ~zero_length)
    )
    facts[f"{modality}_lengths"].append(lengths)
    return features, mask


def _strings(values):
    return [
        item.decode("utf-8") if isinstance(item, bytes) else str(item)
        for item in np.asarray(values, dtype=object).reshape(-1).tolist()
    ]


def convert(
    input_path,
    output_path,
    dataset=None,
    force=False,
    padding="auto",
    custom_features=False,
):
    """Converts one MMSA pickle; returns a `Summary` (not yet printed).

    Args:
        input_path: str. The MMSA `.pkl`.
        output_path: str. The `.h5` to write (atomically).
        dataset: str or None. `mosi`, `mosei` or `sims`; None infers it
            from the feature widths.
        force: bool. Overwrite an existing output.
        padding: str. `auto` (detect per modality), `right` or `left`:
            where the release puts the padding of audio/vision.
        custom_features: bool. The audio/vision features are your own
            (same layout, e.g. MMSA-FET output), so their widths are not
            held to the release's. Otherwise widths other than the named
            dataset's release widths are refused.
    """
    from msakeras.data import write_dataset

    input_path = os.fspath(input_path)
    output_path = os.fspath(output_path)
    _common.check_output(output_path, force, [input_path])
    if padding not in ("auto", "right", "left"):
        raise ConversionError(f"padding must be auto, right or left: {padding}")
    if dataset is not None and dataset not in DATASETS:
        raise ConversionError(
            f"Unknown dataset {dataset!r}; expected one of {DATASETS}."
        )
    data = safe_pickle.load_pickle(input_path)
    if not isinstance(data, dict):
        raise ConversionError(
            f"File '{input_path}': expected a dict of splits "
            f"{list(SPLITS)}, got {type(data).__name__}."
        )
    missing = [split for split in SPLITS if split not in data]
    if missing:
        raise ConversionError(
            f"File '{input_path}': missing split(s) {missing}; top-level "
            f"keys are {sorted(map(str, data))}."
        )
    ignored = sorted(str(key) for key in data if key not in SPLITS)
    raws = {
        split: _read_split(data[split], _common.where(input_path, split))
        for split in SPLITS
    }
    del data
    inferred = dataset is None
    if inferred:
        dataset = infer_dataset(raws, input_path)
    widths = {}
    for modality in ("audio", "vision"):
        found = {split: raws[split][modality].shape[2] for split in SPLITS}
        if len(set(found.values())) > 1:
            raise ConversionError(
                f"File '{input_path}': key '{modality}' has different "
                f"feature widths across splits: {found}."
            )
        widths[modality] = found["train"]
    if not custom_features:
        _common.check_release_widths(raws["train"], dataset, input_path, "MMSA")

    facts = {"text_moved_right": 0, "text_ids_past_mask_zeroed": 0}
    for modality in ("audio", "vision"):
        facts.update(
            {
                f"{modality}_non_finite": [],
                f"{modality}_length_source": set(),
                f"{modality}_votes": [0, 0],
                f"{modality}_left_padded_samples": 0,
                f"{modality}_outside_sequences": 0,
                f"{modality}_outside_frames": 0,
                f"{modality}_zero_lengths": 0,
                f"{modality}_zero_frames_inside": 0,
                f"{modality}_lengths": [],
            }
        )
    text_lengths = []
    splits = {}
    for split in SPLITS:
        raw = raws[split]
        location = _common.where(input_path, split)
        ids, text_mask, segments = _text(raw, location, facts)
        text_lengths.append(text_mask.sum(axis=1))
        arrays = {
            "text_token_ids": ids,
            "text_padding_mask": text_mask,
            "text_segment_ids": segments,
        }
        for modality in ("audio", "vision"):
            features, mask = _features(raw, modality, text_mask, padding, facts)
            arrays[modality] = features
            arrays[f"{modality}_mask"] = mask
            raw[modality] = None  # free the source copy early
        num = raw["label"].shape[0]
        arrays["label"] = raw["label"].astype(np.float32)
        for source, target in UNIMODAL_LABELS.items():
            if source in raw:
                arrays[target] = raw[source].astype(np.float32)
        for key in ["label"] + [UNIMODAL_LABELS[s] for s in UNIMODAL_LABELS]:
            if key in arrays and not np.all(np.isfinite(arrays[key])):
                bad = int(np.argmax(~np.isfinite(arrays[key])))
                raise ConversionError(
                    f"{location}: labels ('{key}') must be finite; sample "
                    f"{bad} is {arrays[key][bad]}."
                )
        arrays["index"] = np.arange(num, dtype=np.int32)
        arrays["id"] = np.asarray(_strings(raw["id"]), dtype=str)
        if "raw_text" in raw:
            arrays["raw_text"] = np.asarray(
                _strings(raw["raw_text"]), dtype=str
            )
        splits[split] = arrays
        raws[split] = None

    attributes = {
        "dataset": dataset,
        "source_release": (
            "MMSA-layout custom features "
            if custom_features
            else "MMSA pickle "
        )
        + os.path.basename(input_path),
        "text_vocabulary": TEXT_VOCABULARY[dataset],
        "converter": "data_prep/convert_mmsa_pickle.py",
    }
    try:
        write_dataset(output_path, splits, attributes, overwrite=force)
    except ValueError as error:
        raise ConversionError(f"Converting '{input_path}': {error}") from None

    summary = _common.Summary(
        f"Converted MMSA pickle '{input_path}' -> '{output_path}'"
    )
    summary.add(
        f"dataset: {dataset}"
        + (" (inferred from feature widths)" if inferred else " (given)")
    )
    if ignored:
        summary.add(f"ignored top-level keys: {ignored}")
    counts = {split: int(splits[split]["label"].shape[0]) for split in SPLITS}
    summary.add("samples: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    train = splits["train"]
    summary.add(
        f"text: {train['text_token_ids'].shape[1]} tokens; audio: "
        f"{train['audio'].shape[1]} x {widths['audio']}; vision: "
        f"{train['vision'].shape[1]} x {widths['vision']}"
    )
    summary.add(
        "labels: "
        + ", ".join(k for k in splits["train"] if k.startswith("label"))
    )
    summary.add(f"text lengths: {_common.percentiles(text_lengths)}")
    if facts["text_moved_right"] or facts["text_ids_past_mask_zeroed"]:
        summary.add(
            f"text: {facts['text_moved_right']} left-padded rows moved "
            f"right, {facts['text_ids_past_mask_zeroed']} ids past the mask "
            "zeroed"
        )
    for modality in ("audio", "vision"):
        non_finite = _common.sum_counts(facts[f"{modality}_non_finite"])
        right, left = facts[f"{modality}_votes"]
        side = (
            "left (moved to the right)"
            if facts[f"{modality}_left_padded_samples"]
            else "right"
        )
        sources = ", ".join(sorted(facts[f"{modality}_length_source"]))
        lengths = _common.percentiles(facts[f"{modality}_lengths"])
        summary.add(f"{modality} lengths ({sources}): {lengths}")
        summary.add(
            f"{modality} padding: {side}; samples looking right/left padded: "
            f"{right}/{left}; non-zero frames past the length zeroed: "
            f"{facts[f'{modality}_outside_frames']} frames in "
            f"{facts[f'{modality}_outside_sequences']} sequences"
        )
        summary.add(
            f"{modality} cleaned values: NaN {non_finite.get('nan', 0)}, "
            f"+inf {non_finite.get('+inf', 0)}, -inf "
            f"{non_finite.get('-inf', 0)} (set to 0); zero lengths raised "
            f"to 1: {facts[f'{modality}_zero_lengths']}; sequences with an "
            f"all-zero frame inside the length: "
            f"{facts[f'{modality}_zero_frames_inside']}"
        )
    summary.facts = {
        "dataset": dataset,
        "counts": counts,
        "non_finite": {
            m: _common.sum_counts(facts[f"{m}_non_finite"])
            for m in ("audio", "vision")
        },
        "outside_frames": {
            m: facts[f"{m}_outside_frames"] for m in ("audio", "vision")
        },
        "outside_sequences": {
            m: facts[f"{m}_outside_sequences"] for m in ("audio", "vision")
        },
        "left_padded": {
            m: facts[f"{m}_left_padded_samples"] > 0
            for m in ("audio", "vision")
        },
        "zero_lengths": {
            m: facts[f"{m}_zero_lengths"] for m in ("audio", "vision")
        },
    }
    return summary


def build_parser():
    parser = argparse.ArgumentParser(
        prog="convert_mmsa_pickle",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "--input", required=True, help="MMSA feature pickle (.pkl)."
    )
    parser.add_argument(
        "--output",
        required=True,
        help="standard msakeras HDF5 file to write (.h5).",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="dataset; inferred from feature widths if omitted.",
    )
    parser.add_argument(
        "--padding",
        choices=("auto", "right", "left"),
        default="auto",
        help="padding side of audio/vision in the release.",
    )
    parser.add_argument(
        "--custom-features",
        action="store_true",
        help="audio/vision are your own features in the MMSA layout: "
        "widths are not held to the named dataset's release (MOSI 5/20, "
        "MOSEI 74/35, SIMS 33/709).",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing output file.",
    )
    return parser


def main(argv=None):
    return _common.run_main(
        build_parser(),
        convert,
        argv,
        lambda args: dict(
            input_path=args.input,
            output_path=args.output,
            dataset=args.dataset,
            force=args.force,
            custom_features=args.custom_features,
            padding=args.padding,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

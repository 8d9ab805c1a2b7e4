"""Converts a MulT/CMU "noalign" pickle (+ label CSV) to the standard file.

Source release: the CMU-MultimodalSDK / MulT processed pickles used by the
official MMIM code (declare-lab/Multimodal-Infomax, `src/create_dataset.py`):
`mosi_data_noalign.pkl` with MMSA's `MOSI-label.csv`, and
`mosei_senti_data_noalign.pkl` with `MOSEI-label.csv` (distributed through
the MulT repository, yaohungt/Multimodal-Transformer, and MMIM's README).
Layout: `docs/protocol.md`, `docs/protocol.md`

The release is LEFT-padded and has no lengths. As MMIM does, a sequence's
length is the number of frames that are not all zero, its last `length`
frames are kept, and zero lengths become 1; here the kept frames are moved
to the front (right padding) and masked. NaN/±inf become 0 (counted).
The pickle's `text` (GloVe vectors) is not used: the transcript comes from
the label CSV (columns `text`, `video_id`, `clip_id`), matched on the
pickle id `<video_id>_<clip_id>`, and is re-tokenised with the uncased BERT
WordPiece vocabulary (`[CLS] ... [SEP]`, 50 tokens) as MMIM does with
`bert-base-uncased`. Labels are column 0 of `labels` ((N,1,1) or (N,1,7)).

Example:

    python -m data_prep.convert_mult_pickle \\
        --input mosi_data_noalign.pkl --labels-csv MOSI-label.csv \\
        --output data/mosi_mult.h5
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
    from data_prep import wordpiece
    from data_prep._common import ConversionError
else:  # data_prep.X or the installed msakeras.data_prep.X
    from . import _common
    from . import safe_pickle
    from . import wordpiece
    from ._common import ConversionError


SPLITS = ("train", "valid", "test")
DATASETS = ("mosi", "mosei")
KNOWN_WIDTHS = {(5, 20): "mosi", (74, 35): "mosei"}


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def read_label_csv(path):
    """Maps `<video_id>_<clip_id>` (and `video$_$clip`) to the transcript."""
    import pandas as pd

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Label CSV '{path}' does not exist.")
    try:
        table = pd.read_csv(
            path, dtype={"video_id": str, "clip_id": str}, keep_default_na=False
        )
    except Exception as error:  # pandas raises several parser errors
        raise ConversionError(
            f"Label CSV '{path}' could not be read: {error}"
        ) from None
    missing = [c for c in ("text", "video_id", "clip_id") if c not in table]
    if missing:
        raise ConversionError(
            f"Label CSV '{path}': missing column(s) {missing}; columns are "
            f"{list(table.columns)}."
        )
    texts = {}
    for video, clip, text in zip(
        table["video_id"], table["clip_id"], table["text"]
    ):
        texts[f"{video}_{clip}"] = str(text)
        texts[f"{video}$_${clip}"] = str(text)
    return texts


def _ids(raw_ids, num, location):
    ids = _common.to_array(raw_ids, "id", location)
    if ids.ndim == 2:
        columns = [[_decode(v) for v in ids[:, j]] for j in range(ids.shape[1])]
    elif ids.ndim == 1:
        columns = [[_decode(v) for v in ids]]
    else:
        raise ConversionError(
            f"{location}: key 'id' must have rank 1 or 2, got shape "
            f"{tuple(ids.shape)}."
        )
    _common.check_count(ids, num, "id", location)
    return columns


def _match_texts(columns, texts, location, csv_path, missing_text):
    """The transcript of each sample; returns (ids, raw texts, missing)."""
    ids, raw, missing = [], [], []
    for row in range(len(columns[0])):
        candidates = [columns[0][row]]
        if len(columns) > 1:
            candidates.append(f"{columns[0][row]}_{columns[1][row]}")
        found = next((c for c in candidates if c in texts), None)
        if found is None:
            missing.append(columns[0][row])
            ids.append(candidates[-1])
            raw.append("")
        else:
            ids.append(found)
            raw.append(texts[found])
    if missing and missing_text == "error":
        raise ConversionError(
            f"{location}: {len(missing)} id(s) of key 'id' have no row in "
            f"label CSV '{csv_path}' (matched on '<video_id>_<clip_id>'), "
            f"e.g. {missing[:3]}; pass --missing-text empty to keep them "
            "with an empty transcript."
        )
    return ids, raw, len(missing)


def _left_padded(features, key, location, facts):
    """MMIM's lengths and slices, moved to right padding."""
    features, counts = _common.clean_non_finite(features)
    facts[f"{key}_non_finite"].append(counts)
    frames = _common.nonzero_frames(features)
    steps = features.shape[1]
    lengths = steps - np.count_nonzero(~frames, axis=1)
    zero = lengths == 0
    facts[f"{key}_zero_lengths"] += int(np.count_nonzero(zero))
    lengths = np.maximum(lengths, 1)
    # Non-zero frames before the kept slice (an all-zero frame inside the
    # data shortens MMIM's length, so its first frames are dropped).
    head = np.arange(steps)[None, :] < (steps - lengths)[:, None]
    dropped = frames & head
    facts[f"{key}_dropped_sequences"] += int(
        np.count_nonzero(np.any(dropped, axis=1))
    )
    facts[f"{key}_dropped_frames"] += int(np.count_nonzero(dropped))
    facts[f"{key}_lengths"].append(lengths)
    return _common.left_to_right(features, lengths), _common.mask_from_lengths(
        lengths, steps
    )


def convert(
    input_path,
    labels_csv,
    output_path,
    dataset=None,
    force=False,
    tokenizer="python",
    vocabulary=None,
    text_length=50,
    missing_text="error",
    custom_features=False,
):
    """Converts one MulT noalign pickle; returns a `Summary`.

    Audio/vision widths other than the named dataset's release widths
    (MOSI 5/20, MOSEI 74/35) are refused unless `custom_features`.
    """
    from msakeras.data import write_dataset

    input_path = os.fspath(input_path)
    output_path = os.fspath(output_path)
    _common.check_output(output_path, force, [input_path, labels_csv])
    if dataset is not None and dataset not in DATASETS:
        raise ConversionError(
            f"Unknown dataset {dataset!r}; expected one of {DATASETS}."
        )
    texts = read_label_csv(labels_csv)
    data = safe_pickle.load_pickle(input_path)
    if not isinstance(data, dict):
        raise ConversionError(
            f"File '{input_path}': expected a dict of splits {list(SPLITS)},"
            f" got {type(data).__name__}."
        )
    missing = [split for split in SPLITS if split not in data]
    if missing:
        raise ConversionError(
            f"File '{input_path}': missing split(s) {missing}; top-level "
            f"keys are {sorted(map(str, data))}."
        )
    raws = {}
    for split in SPLITS:
        location = _common.where(input_path, split)
        split_data = data[split]
        if not isinstance(split_data, dict):
            raise ConversionError(
                f"{location}: expected a dict of arrays, got "
                f"{type(split_data).__name__}."
            )
        for key in ("vision", "audio", "labels", "id"):
            if key not in split_data:
                raise ConversionError(
                    f"{location}: missing key '{key}'; present keys are "
                    f"{sorted(map(str, split_data))}."
                )
        labels = _common.to_array(split_data["labels"], "labels", location)
        _common.check_numeric(labels, "labels", location)
        if labels.ndim == 0 or labels.shape[0] == 0:
            raise ConversionError(
                f"{location}: key 'labels' has shape {tuple(labels.shape)}; "
                "expected (N, 1, 1) or (N, 1, 7)."
            )
        num = labels.shape[0]
        raw = {"label": labels.reshape(num, -1)[:, 0].astype(np.float32)}
        for key in ("audio", "vision"):
            features = _common.to_array(split_data[key], key, location)
            _common.check_numeric(features, key, location)
            _common.check_rank(features, 3, key, location, " (N, T, F)")
            _common.check_count(features, num, key, location)
            if features.shape[1] == 0 or features.shape[2] == 0:
                raise ConversionError(
                    f"{location}: key '{key}' has shape "
                    f"{tuple(features.shape)}; steps and width must be "
                    "positive."
                )
            raw[key] = features
        raw["id_columns"] = _ids(split_data["id"], num, location)
        raws[split] = raw
    del data

    widths = {}
    for key in ("audio", "vision"):
        found = {split: raws[split][key].shape[2] for split in SPLITS}
        if len(set(found.values())) > 1:
            raise ConversionError(
                f"File '{input_path}': key '{key}' has different feature "
                f"widths across splits: {found}."
            )
        widths[key] = found["train"]
    if not custom_features:
        _common.check_release_widths(raws["train"], dataset, input_path, "MulT")
    inferred = dataset is None
    if inferred:
        dataset = KNOWN_WIDTHS.get((widths["audio"], widths["vision"]))
        if dataset is None:
            raise ConversionError(
                f"File '{input_path}': cannot infer the dataset from audio "
                f"width {widths['audio']} and vision width "
                f"{widths['vision']} (known: MOSI 5/20, MOSEI 74/35); pass "
                "--dataset."
            )

    try:
        text_tokenizer = wordpiece.make_tokenizer(tokenizer, vocabulary)
    except (ImportError, OSError, ValueError) as error:
        raise ConversionError(f"Tokenizer: {error}") from None

    facts = {"missing_text": 0, "truncated_text": 0}
    for key in ("audio", "vision"):
        facts.update(
            {
                f"{key}_non_finite": [],
                f"{key}_zero_lengths": 0,
                f"{key}_dropped_sequences": 0,
                f"{key}_dropped_frames": 0,
                f"{key}_lengths": [],
            }
        )
    text_lengths = []
    splits = {}
    for split in SPLITS:
        raw = raws[split]
        location = _common.where(input_path, split)
        ids, transcripts, missing_count = _match_texts(
            raw["id_columns"], texts, location, labels_csv, missing_text
        )
        facts["missing_text"] += missing_count
        token_ids, text_mask, truncated = wordpiece.encode(
            text_tokenizer, transcripts, text_length
        )
        facts["truncated_text"] += truncated
        text_lengths.append(text_mask.sum(axis=1))
        arrays = {"text_token_ids": token_ids, "text_padding_mask": text_mask}
        for key in ("audio", "vision"):
            features, mask = _left_padded(raw[key], key, location, facts)
            arrays[key] = features
            arrays[f"{key}_mask"] = mask
            raw[key] = None
        if not np.all(np.isfinite(raw["label"])):
            bad = int(np.argmax(~np.isfinite(raw["label"])))
            raise ConversionError(
                f"{location}: key 'labels' must be finite; sample {bad} is "
                f"{raw['label'][bad]}."
            )
        arrays["label"] = raw["label"]
        arrays["index"] = np.arange(len(ids), dtype=np.int32)
        arrays["id"] = np.asarray(ids, dtype=str)
        arrays["raw_text"] = np.asarray(transcripts, dtype=str)
        splits[split] = arrays
        raws[split] = None

    vocabulary_name = (
        "bert_base_uncased"
        if vocabulary is None
        else f"wordpiece:{os.path.basename(os.fspath(vocabulary))}"
    )
    attributes = {
        "dataset": dataset,
        "source_release": (
            ("MulT-layout custom features " if custom_features else "")
            + f"MulT/CMU noalign pickle {os.path.basename(input_path)} + "
            f"{os.path.basename(os.fspath(labels_csv))}"
        ),
        "text_vocabulary": vocabulary_name,
        "converter": "data_prep/convert_mult_pickle.py",
        "tokenizer": text_tokenizer.name,
    }
    try:
        write_dataset(output_path, splits, attributes, overwrite=force)
    except ValueError as error:
        raise ConversionError(f"Converting '{input_path}': {error}") from None

    summary = _common.Summary(
        f"Converted MulT noalign pickle '{input_path}' -> '{output_path}'"
    )
    summary.add(
        f"dataset: {dataset}"
        + (" (inferred from feature widths)" if inferred else " (given)")
    )
    counts = {split: int(splits[split]["label"].shape[0]) for split in SPLITS}
    summary.add("samples: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    train = splits["train"]
    summary.add(
        f"text: {text_length} tokens ({text_tokenizer.name} WordPiece, "
        f"{vocabulary_name}); audio: {train['audio'].shape[1]} x "
        f"{widths['audio']}; vision: {train['vision'].shape[1]} x "
        f"{widths['vision']}"
    )
    summary.add(
        f"text lengths: {_common.percentiles(text_lengths)}; truncated: "
        f"{facts['truncated_text']}; ids without a CSV row: "
        f"{facts['missing_text']}"
    )
    for key in ("audio", "vision"):
        non_finite = _common.sum_counts(facts[f"{key}_non_finite"])
        lengths = _common.percentiles(facts[f"{key}_lengths"])
        summary.add(f"{key} lengths (frames that are not all zero): {lengths}")
        summary.add(
            f"{key} padding: left in the release, moved to the right; "
            f"zero lengths raised to 1: {facts[f'{key}_zero_lengths']}; "
            f"non-zero frames before the kept slice (an all-zero frame "
            f"inside the data): {facts[f'{key}_dropped_frames']} frames in "
            f"{facts[f'{key}_dropped_sequences']} sequences"
        )
        summary.add(
            f"{key} cleaned values: NaN {non_finite.get('nan', 0)}, +inf "
            f"{non_finite.get('+inf', 0)}, -inf {non_finite.get('-inf', 0)}"
            " (set to 0)"
        )
    summary.facts = {
        "dataset": dataset,
        "counts": counts,
        "missing_text": facts["missing_text"],
        "non_finite": {
            k: _common.sum_counts(facts[f"{k}_non_finite"])
            for k in ("audio", "vision")
        },
        "zero_lengths": {
            k: facts[f"{k}_zero_lengths"] for k in ("audio", "vision")
        },
        "dropped_frames": {
            k: facts[f"{k}_dropped_frames"] for k in ("audio", "vision")
        },
    }
    return summary


def build_parser():
    parser = argparse.ArgumentParser(
        prog="convert_mult_pickle",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "--input", required=True, help="MulT noalign pickle (.pkl)."
    )
    parser.add_argument(
        "--labels-csv",
        required=True,
        help="MMSA label.csv with columns text, video_id, clip_id.",
    )
    parser.add_argument(
        "--output", required=True, help="standard msakeras HDF5 file (.h5)."
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="dataset; inferred from feature widths if omitted.",
    )
    parser.add_argument(
        "--tokenizer",
        choices=("python", "keras_hub"),
        default="python",
        help="WordPiece implementation (see data_prep/wordpiece.py).",
    )
    parser.add_argument(
        "--vocabulary",
        default=None,
        help="WordPiece vocab.txt; default: bundled bert-base-uncased vocab.",
    )
    parser.add_argument(
        "--text-length", type=int, default=50, help="tokens incl. CLS/SEP."
    )
    parser.add_argument(
        "--missing-text",
        choices=("error", "empty"),
        default="error",
        help="what to do with ids that have no row in the label CSV.",
    )
    parser.add_argument(
        "--custom-features",
        action="store_true",
        help="audio/vision are your own features in the MulT layout: "
        "widths are not held to the named dataset's release (MOSI 5/20, "
        "MOSEI 74/35).",
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
            input_path=args.input,
            labels_csv=args.labels_csv,
            output_path=args.output,
            dataset=args.dataset,
            force=args.force,
            tokenizer=args.tokenizer,
            vocabulary=args.vocabulary,
            text_length=args.text_length,
            missing_text=args.missing_text,
            custom_features=args.custom_features,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

"""Bring your own data: a CSV of utterances plus per-sample `.npy` features
to the standard msakeras HDF5 file.

Inputs:

- `--csv`: one row per sample with columns `id`, `split` (`train`,
  `valid`, `test`), `text` (the transcript), `label` (sentiment), and
  optionally `label_text`, `label_audio`, `label_vision` (unimodal labels,
  SIMS-style). Other columns are ignored.
- `--audio-dir`, `--vision-dir`: one `<id>.npy` per sample, shape
  `(frames, features)` (a 1-D `(features,)` file is one frame); the
  feature width must be the same for every sample of a modality. Files are
  read with `np.load(allow_pickle=False)`: no code runs.

Text is tokenised with the chosen text backbone's WordPiece tokenizer
(`--text-backbone`: a local Hugging Face BERT folder holding `vocab.txt`;
default the bundled MiniLM, whose vocabulary is bert-base-uncased) through
keras-hub's `BertTokenizer` (`--tokenizer keras_hub`, default) or the
pure-Python equivalent (`--tokenizer python`), as `[CLS] ... [SEP]`
right-padded to `--text-length` tokens. Audio/vision are right-padded to
the longest sample (or cut to the first `--audio-length` /
`--vision-length` frames) with masks from the true frame counts;
NaN/±inf become 0 and are counted. Labels must be finite and in the
dataset's range (`--dataset mosi|mosei`: [-3, 3]; `sims`: [-1, 1]).

Example (the worked example of data_prep/README.md):

    python -m data_prep.convert_csv_features --csv my_data/samples.csv \\
        --audio-dir my_data/audio --vision-dir my_data/vision \\
        --dataset mosi --output my_data/my_data.h5
"""

import argparse
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


SPLITS = ("train", "valid", "test")
REQUIRED_COLUMNS = ("id", "split", "text", "label")
UNIMODAL_LABELS = ("label_text", "label_audio", "label_vision")


def read_table(csv_path):
    """The CSV as a pandas table with string ids / text, checked."""
    import pandas as pd

    csv_path = os.fspath(csv_path)
    if not os.path.isfile(csv_path):
        raise ConversionError(f"CSV '{csv_path}' does not exist.")
    table = pd.read_csv(
        csv_path,
        dtype={"id": str, "split": str, "text": str},
        keep_default_na=False,
    )
    missing = [name for name in REQUIRED_COLUMNS if name not in table]
    if missing:
        raise ConversionError(
            f"CSV '{csv_path}': missing column(s) {missing}; columns are "
            f"{list(table.columns)}, required {list(REQUIRED_COLUMNS)}."
        )
    bad_split = ~table["split"].isin(SPLITS)
    if bad_split.any():
        row = int(np.argmax(bad_split.to_numpy()))
        raise ConversionError(
            f"CSV '{csv_path}', row {row + 2} (id '{table['id'][row]}'): "
            f"split {table['split'][row]!r} is not one of {SPLITS}."
        )
    duplicated = table["id"].duplicated()
    if duplicated.any():
        row = int(np.argmax(duplicated.to_numpy()))
        raise ConversionError(
            f"CSV '{csv_path}', row {row + 2}: id '{table['id'][row]}' "
            "appears twice; ids name the feature files and must be unique."
        )
    for split in SPLITS:
        if not (table["split"] == split).any():
            raise ConversionError(
                f"CSV '{csv_path}': no row has split '{split}'; the "
                "standard file needs train, valid and test."
            )
    for column in ("label",) + UNIMODAL_LABELS:
        if column not in table:
            continue
        values = pd.to_numeric(table[column], errors="coerce").to_numpy()
        if not np.all(np.isfinite(values)):
            row = int(np.argmax(~np.isfinite(values)))
            raise ConversionError(
                f"CSV '{csv_path}', row {row + 2} (id '{table['id'][row]}'): "
                f"column '{column}' value {table[column][row]!r} is not a "
                "finite number."
            )
        table[column] = values.astype(np.float32)
    return table


def read_features(directory, ids, role, max_frames):
    """`(features (N, T, F), mask (N, T), raw lengths, non-finite counts)`."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ConversionError(f"--{role}-dir '{directory}' is not a folder.")
    sequences = []
    width = None
    root = os.path.abspath(directory)
    for sample_id in ids:
        path = os.path.join(directory, f"{sample_id}.npy")
        inside = os.path.abspath(os.path.join(root, f"{sample_id}.npy"))
        if os.path.isabs(str(sample_id)) or not inside.startswith(
            root + os.sep
        ):
            raise ConversionError(
                f"id {sample_id!r} points outside --{role}-dir "
                f"'{directory}' ('{inside}'); ids must name files inside it."
            )
        if not os.path.isfile(path):
            raise ConversionError(
                f"No {role} features for id '{sample_id}': expected '{path}'."
            )
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ConversionError(
                f"File '{path}': not a plain numeric .npy ({error})."
            ) from None
        if not isinstance(array, np.ndarray):  # an .npz named .npy
            array.close()
            raise ConversionError(
                f"File '{path}': an .npz archive, not a single .npy array."
            )
        _common.check_numeric(array, role, f"File '{path}'")
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] == 0:
            raise ConversionError(
                f"File '{path}': {role} features must have shape (frames, "
                f"features) with at least one frame, got {array.shape}."
            )
        if width is None:
            width = array.shape[1]
        elif array.shape[1] != width:
            raise ConversionError(
                f"File '{path}': {role} width {array.shape[1]} differs from "
                f"{width}, the width of the first sample; shape "
                f"{array.shape}."
            )
        sequences.append(array)
    lengths = np.asarray([len(sequence) for sequence in sequences])
    steps = int(lengths.max()) if max_frames is None else int(max_frames)
    features = np.zeros((len(sequences), steps, width), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        kept = sequence[:steps]
        features[row, : len(kept)] = kept
    features, counts = _common.clean_non_finite(features)
    kept_lengths = np.minimum(lengths, steps)
    mask = _common.mask_from_lengths(kept_lengths, steps)
    return features, mask, lengths, counts


def backbone_vocabulary(text_backbone):
    """`(vocab.txt path, lowercase, vocabulary name)` of a text backbone."""
    if text_backbone is None:
        return wordpiece.default_vocabulary_path(), True, "bert_base_uncased"
    folder = os.fspath(text_backbone)
    path = os.path.join(folder, "vocab.txt")
    if not os.path.isfile(path):
        raise ConversionError(
            f"--text-backbone '{folder}' has no vocab.txt; give a local "
            "Hugging Face BERT folder (download a keras-hub preset's "
            "folder first) or leave it out for the bundled MiniLM."
        )
    lowercase = True
    config = os.path.join(folder, "tokenizer_config.json")
    if os.path.isfile(config):
        with open(config, encoding="utf-8") as handle:
            lowercase = bool(json.load(handle).get("do_lower_case", True))
    return path, lowercase, f"wordpiece:{os.path.basename(folder)}"


def convert(
    csv_path,
    audio_dir,
    vision_dir,
    output_path,
    dataset,
    text_backbone=None,
    tokenizer="keras_hub",
    text_length=50,
    audio_length=None,
    vision_length=None,
    force=False,
):
    """Converts; returns a `_common.Summary`. See the module docstring."""
    from msakeras.data import write_dataset

    _common.check_output(output_path, force, [csv_path])
    table = read_table(csv_path)
    vocabulary, lowercase, vocabulary_name = backbone_vocabulary(text_backbone)
    text_tokenizer = wordpiece.make_tokenizer(
        tokenizer, vocabulary, lowercase=lowercase
    )
    present_labels = [name for name in UNIMODAL_LABELS if name in table]
    splits = {}
    facts = {"truncated": {"text": 0, "audio": 0, "vision": 0}}
    non_finite = {"audio": [], "vision": []}
    steps = {"audio": audio_length, "vision": vision_length}
    # One pass over all samples fixes each modality's padded length.
    for role, directory in (("audio", audio_dir), ("vision", vision_dir)):
        features, mask, lengths, counts = read_features(
            directory, table["id"].tolist(), role, steps[role]
        )
        steps[role] = features.shape[1]
        facts["truncated"][role] = int(np.count_nonzero(lengths > steps[role]))
        non_finite[role].append(counts)
        facts[role] = (features, mask, lengths)
    for split in SPLITS:
        rows = table.index[table["split"] == split].to_numpy()
        part = table.loc[rows]
        token_ids, text_mask, cut = wordpiece.encode(
            text_tokenizer, part["text"].tolist(), text_length
        )
        facts["truncated"]["text"] += cut
        arrays = {
            "text_token_ids": token_ids,
            "text_padding_mask": text_mask,
            "text_segment_ids": np.zeros_like(token_ids),
            "label": part["label"].to_numpy(np.float32),
            "index": np.arange(len(rows), dtype=np.int32),
            "id": np.asarray(part["id"].tolist(), dtype=str),
            "raw_text": np.asarray(part["text"].tolist(), dtype=str),
        }
        for role in ("audio", "vision"):
            features, mask, _ = facts[role]
            arrays[role] = features[rows]
            arrays[f"{role}_mask"] = mask[rows]
        for name in present_labels:
            arrays[name] = part[name].to_numpy(np.float32)
        splits[split] = arrays
    attributes = {
        "dataset": dataset,
        "source_release": f"CSV {os.path.basename(os.fspath(csv_path))} + "
        ".npy features",
        "text_vocabulary": vocabulary_name,
        "converter": "data_prep/convert_csv_features.py",
        "tokenizer": text_tokenizer.name,
    }
    try:
        write_dataset(output_path, splits, attributes, overwrite=force)
    except ValueError as error:
        raise ConversionError(f"Converting '{csv_path}': {error}") from None

    summary = _common.Summary(
        f"Converted CSV + .npy features -> '{output_path}'"
    )
    counts = {s: int(splits[s]["label"].shape[0]) for s in SPLITS}
    summary.add(
        f"dataset: {dataset}; samples: "
        + ", ".join(f"{s} {n}" for s, n in counts.items())
    )
    summary.add(
        f"text: {text_length} tokens ({text_tokenizer.name} WordPiece, "
        f"{vocabulary_name}); audio: {steps['audio']} x "
        f"{facts['audio'][0].shape[2]}; vision: {steps['vision']} x "
        f"{facts['vision'][0].shape[2]}"
    )
    for role in ("audio", "vision"):
        summary.add(f"{role} frames: {_common.percentiles([facts[role][2]])}")
    summary.add(
        f"truncated: text {facts['truncated']['text']}, audio "
        f"{facts['truncated']['audio']}, vision "
        f"{facts['truncated']['vision']}; padding: right"
    )
    if present_labels:
        summary.add(f"unimodal labels: {', '.join(present_labels)}")
    for role in ("audio", "vision"):
        cleaned = _common.sum_counts(non_finite[role])
        summary.add(
            f"{role} cleaned values: NaN {cleaned.get('nan', 0)}, +inf "
            f"{cleaned.get('+inf', 0)}, -inf {cleaned.get('-inf', 0)} "
            "(set to 0)"
        )
    summary.facts = {"counts": counts, "truncated": facts["truncated"]}
    return summary


def build_parser():
    parser = argparse.ArgumentParser(
        prog="convert_csv_features",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument("--csv", required=True, help="id,split,text,label CSV")
    parser.add_argument(
        "--audio-dir", required=True, help="folder of <id>.npy audio"
    )
    parser.add_argument(
        "--vision-dir", required=True, help="folder of <id>.npy vision"
    )
    parser.add_argument("--output", required=True, help="output .h5 file")
    parser.add_argument(
        "--dataset",
        required=True,
        choices=("mosi", "mosei", "sims"),
        help="label range and metric protocol the recipes will use",
    )
    parser.add_argument(
        "--text-backbone",
        default=None,
        help="local Hugging Face BERT folder whose vocab.txt tokenises the "
        "text (default: the bundled MiniLM, bert-base-uncased vocabulary)",
    )
    parser.add_argument(
        "--tokenizer",
        choices=("keras_hub", "python"),
        default="keras_hub",
        help="WordPiece implementation (data_prep/wordpiece.py)",
    )
    parser.add_argument(
        "--text-length", type=int, default=50, help="tokens incl. CLS/SEP"
    )
    parser.add_argument(
        "--audio-length",
        type=int,
        default=None,
        help="frames kept (first N); default: longest",
    )
    parser.add_argument(
        "--vision-length",
        type=int,
        default=None,
        help="frames kept (first N); default: longest",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing output"
    )
    return parser


def main(argv=None):
    return _common.run_main(
        build_parser(),
        convert,
        argv,
        lambda args: dict(
            csv_path=args.csv,
            audio_dir=args.audio_dir,
            vision_dir=args.vision_dir,
            output_path=args.output,
            dataset=args.dataset,
            text_backbone=args.text_backbone,
            tokenizer=args.tokenizer,
            text_length=args.text_length,
            audio_length=args.audio_length,
            vision_length=args.vision_length,
            force=args.force,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

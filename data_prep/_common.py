"""Helpers shared by the converters: errors, cleaning, padding, summaries."""

import argparse
import os
import pickle
import sys

import numpy as np


class ConversionError(ValueError):
    """Bad input for a converter; the message names file, key and shape."""


# Rows processed at a time so MOSEI-sized arrays need no second full copy.
_CHUNK = 1024


def where(path, split=None):
    """`File 'x.pkl', split 'train'` for messages."""
    if split is None:
        return f"File '{path}'"
    return f"File '{path}', split '{split}'"


def check_release_widths(train_split, dataset, input_path, layout):
    """Refuses a release pickle whose audio/vision widths are another
    dataset's (`msakeras.data.schema.check_release_widths`).

    Args:
        train_split: dict with the training split's `audio`/`vision` arrays.
        dataset: str or None. The dataset named by the user.
        input_path: str. The pickle, named in the message.
        layout: str. `"MMSA"` or `"MulT"`, for the `--custom-features` hint.
    """
    from msakeras.data import schema

    try:
        schema.check_release_widths(
            {m: train_split[m].shape for m in ("audio", "vision")},
            dataset,
            f"{input_path}', split 'train",
        )
    except ValueError as error:
        raise ConversionError(
            f"{error} Pass --custom-features if these are your own "
            f"features in the {layout} layout."
        ) from None


def check_output(output_path, force, input_paths=()):
    """Refuses an existing output without `force`, or an output == input."""
    output_path = os.fspath(output_path)
    for input_path in input_paths:
        if input_path is not None and os.path.abspath(
            os.fspath(input_path)
        ) == os.path.abspath(output_path):
            raise ConversionError(
                f"Output '{output_path}' is also an input; choose another "
                "output path."
            )
    if os.path.exists(output_path) and not force:
        raise ConversionError(
            f"Output '{output_path}' already exists; pass --force to "
            "overwrite it."
        )


def to_array(value, key, location):
    """`value` (array or list) as a NumPy array, with a clear error."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value)
        except ValueError as error:
            raise ConversionError(
                f"{location}: key '{key}' is a ragged list that cannot be "
                f"an array ({error})."
            ) from None
    raise ConversionError(
        f"{location}: key '{key}' must be an array or list, got "
        f"{type(value).__name__}."
    )


def check_rank(array, rank, key, location, what=""):
    if array.ndim != rank:
        raise ConversionError(
            f"{location}: key '{key}' must have rank {rank}{what}, got shape "
            f"{tuple(array.shape)}."
        )


def check_numeric(array, key, location):
    if array.dtype.kind not in "biuf":
        raise ConversionError(
            f"{location}: key '{key}' with shape {tuple(array.shape)} must "
            f"be numeric, got dtype {array.dtype}."
        )


def check_count(array, num_samples, key, location, reference="labels"):
    if array.shape[0] != num_samples:
        raise ConversionError(
            f"{location}: key '{key}' has shape {tuple(array.shape)}, i.e. "
            f"{array.shape[0]} samples, but '{reference}' has {num_samples}."
        )


def integer_lengths(lengths, steps, key, location):
    """Validated int64 lengths in `[0, steps]`."""
    check_numeric(lengths, key, location)
    lengths = lengths.reshape(-1)
    rounded = np.rint(lengths)
    if not np.all(np.isfinite(lengths)) or np.any(rounded != lengths):
        raise ConversionError(
            f"{location}: key '{key}' with shape {tuple(lengths.shape)} must "
            "hold whole numbers."
        )
    rounded = rounded.astype(np.int64)
    bad = (rounded < 0) | (rounded > steps)
    if np.any(bad):
        index = int(np.argmax(bad))
        raise ConversionError(
            f"{location}: key '{key}' with shape {tuple(lengths.shape)} must "
            f"lie in [0, {steps}] (the feature steps); sample {index} is "
            f"{rounded[index]}."
        )
    return rounded


def clean_non_finite(array):
    """float32 copy with NaN/±inf set to 0, and the counts replaced."""
    array = np.asarray(array, dtype=np.float32)
    counts = {"nan": 0, "+inf": 0, "-inf": 0}
    for start in range(0, array.shape[0], _CHUNK):
        chunk = array[start : start + _CHUNK]
        bad = ~np.isfinite(chunk)
        if np.any(bad):
            counts["nan"] += int(np.count_nonzero(np.isnan(chunk)))
            counts["+inf"] += int(np.count_nonzero(chunk == np.inf))
            counts["-inf"] += int(np.count_nonzero(chunk == -np.inf))
            chunk[bad] = 0.0
    return array, counts


def nonzero_frames(array):
    """(N, T) bool: frame has any non-zero feature."""
    out = np.empty(array.shape[:2], dtype=bool)
    for start in range(0, array.shape[0], _CHUNK):
        out[start : start + _CHUNK] = np.any(
            array[start : start + _CHUNK] != 0, axis=-1
        )
    return out


def mask_from_lengths(lengths, steps):
    return (np.arange(steps)[None, :] < lengths[:, None]).astype(np.int8)


def padding_votes(frames, lengths):
    """Counts samples that look right- or left-padded given their lengths.

    Only samples shorter than the full steps vote: "right" when every frame
    at index >= length is zero but some frame before `T - length` is not,
    "left" for the mirror image.
    """
    steps = frames.shape[1]
    positions = np.arange(steps)[None, :]
    short = lengths < steps
    tail = positions >= lengths[:, None]
    head = positions < (steps - lengths)[:, None]
    tail_zero = ~np.any(frames & tail, axis=1)
    head_zero = ~np.any(frames & head, axis=1)
    right = int(np.count_nonzero(short & tail_zero & ~head_zero))
    left = int(np.count_nonzero(short & head_zero & ~tail_zero))
    return right, left


def left_to_right(array, lengths):
    """Moves the last `length` frames of each sample to the front."""
    out = np.zeros_like(array)
    steps = array.shape[1]
    for index, length in enumerate(lengths):
        if length:
            out[index, :length] = array[index, steps - length :]
    return out


def zero_past_lengths(array, frames, lengths):
    """Zeros frames at index >= length in place; returns (sequences, frames)."""
    steps = array.shape[1]
    outside = frames & (np.arange(steps)[None, :] >= lengths[:, None])
    sequences = int(np.count_nonzero(np.any(outside, axis=1)))
    count = int(np.count_nonzero(outside))
    if count:
        array[outside] = 0.0
    return sequences, count


def percentiles(lengths):
    values = np.concatenate([np.asarray(x).reshape(-1) for x in lengths])
    if values.size == 0:
        return "n/a"
    p = np.percentile(values, [0, 5, 50, 95, 100])
    return (
        "min {:.0f}, p5 {:.0f}, median {:.0f}, p95 {:.0f}, max {:.0f}".format(
            *p
        )
    )


def sum_counts(counts):
    total = {}
    for item in counts:
        for key, value in item.items():
            total[key] = total.get(key, 0) + value
    return total


class Summary:
    """Collects the facts a converter prints at the end."""

    def __init__(self, title):
        self.title = title
        self.lines = []
        self.facts = {}

    def add(self, line):
        self.lines.append(line)

    def text(self):
        return "\n".join([self.title] + [f"  {line}" for line in self.lines])


def run_main(parser, convert, argv, to_kwargs):
    """Parses `argv`, runs `convert(**to_kwargs(args))`, prints errors.

    Returns 0 on success and 1 on a conversion error (message on stderr).
    """
    args = parser.parse_args(argv)
    try:
        summary = convert(**to_kwargs(args))
    except (
        ConversionError,
        ValueError,
        FileNotFoundError,
        pickle.UnpicklingError,
        OSError,
    ) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    print(summary.text())
    return 0


class HelpFormatter(
    argparse.RawDescriptionHelpFormatter,
    argparse.ArgumentDefaultsHelpFormatter,
):
    pass

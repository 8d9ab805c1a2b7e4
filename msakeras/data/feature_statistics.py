"""Training statistics of the audio/vision features, and far-out inputs.

A feature value such as 1e30 is finite, so `schema.validate_split`
accepts it, but it saturates the encoders and training goes on silently.
`write_dataset` (and so every converter) records per-modality statistics
of the training split's valid frames as file attributes
(`<modality>_train_{mean,std,min,max,abs_p99}`); readers (the recipes,
`msakeras.predict`) call `warn_far_outside` to warn, naming the file,
split, key and first sample, when values lie far outside them.

DECISION: "far outside" is |x| > 1e3 * max(abs_p99, 1): the 99th
percentile of |x| is robust to a few extreme values inside the training
split itself (min/max are not: a 1e30 in train makes max 1e30), and the
floor of 1 keeps near-zero features (all-zero padding-like columns) from
warning at ordinary values.
"""

import warnings

import numpy as np

MODALITIES = ("audio", "vision")
FAR_FACTOR = 1e3
"""How many times the training |x| 99th percentile counts as far out."""

STATISTICS = ("mean", "std", "min", "max", "abs_p99")
_CHUNK_ROWS = 1024
_SAMPLE_VALUES = 1 << 20  # values kept for the percentile


class FeatureRangeWarning(UserWarning):
    """Inputs far outside the training statistics the file recorded."""


def attribute_name(modality, statistic):
    return f"{modality}_train_{statistic}"


def compute_statistics(arrays):
    """`{attribute: float}` over the valid frames of one (training) split.

    Args:
        arrays: dict with `audio`, `audio_mask`, `vision`, `vision_mask`
            (NumPy arrays or `h5py.Dataset`s, read 1024 rows at a time).

    Returns:
        A dict of `<modality>_train_<statistic>` floats.
    """
    result = {}
    for modality in MODALITIES:
        features, mask = arrays[modality], arrays[f"{modality}_mask"]
        count, total, squares = 0, 0.0, 0.0
        low, high = np.inf, -np.inf
        kept = []
        num_rows = features.shape[0]
        total_values = max(1, int(np.prod(features.shape, dtype=np.int64)))
        stride = max(1, total_values // _SAMPLE_VALUES)
        for start in range(0, num_rows, _CHUNK_ROWS):
            chunk = np.asarray(features[start : start + _CHUNK_ROWS])
            valid = np.asarray(mask[start : start + _CHUNK_ROWS]) == 1
            values = chunk[valid].astype(np.float64)  # (frames, width)
            if values.size == 0:
                continue
            count += values.size
            total += float(values.sum())
            squares += float(np.square(values).sum())
            low = min(low, float(values.min()))
            high = max(high, float(values.max()))
            kept.append(np.abs(values.reshape(-1)[::stride]))
        if count == 0:
            continue
        mean = total / count
        std = float(np.sqrt(max(squares / count - mean * mean, 0.0)))
        p99 = float(np.percentile(np.concatenate(kept), 99))
        for name, value in zip(STATISTICS, (mean, std, low, high, p99)):
            result[attribute_name(modality, name)] = value
    return result


def far_outside(arrays, attributes, split, path=None):
    """Messages for modalities with values far outside the training stats.

    Args:
        arrays: dict of a split's arrays (NumPy or `h5py.Dataset`).
        attributes: the file attributes (`read_attributes`); modalities
            without recorded statistics are not checked.
        split: str. The split name, for messages.
        path: str or None. The file, for messages.

    Returns:
        A list of one-line messages (empty when nothing is far out).
    """
    messages = []
    where = f"Split '{split}'"
    if path is not None:
        where = f"File '{path}', split '{split}'"
    for modality in MODALITIES:
        p99 = attributes.get(attribute_name(modality, "abs_p99"))
        if p99 is None or modality not in arrays:
            continue
        limit = FAR_FACTOR * max(float(p99), 1.0)
        features = arrays[modality]
        mask = arrays[f"{modality}_mask"]
        far, first, largest = 0, None, 0.0
        for start in range(0, features.shape[0], _CHUNK_ROWS):
            chunk = np.abs(np.asarray(features[start : start + _CHUNK_ROWS]))
            valid = np.asarray(mask[start : start + _CHUNK_ROWS]) == 1
            outside = (chunk > limit) & valid[..., None]
            if np.any(outside):
                far += int(outside.sum())
                rows = np.flatnonzero(outside.any(axis=(1, 2)))
                if first is None:
                    first = start + int(rows[0])
                largest = max(largest, float(chunk[outside].max()))
        if far:
            messages.append(
                f"{where}: key '{modality}' with shape "
                f"{tuple(features.shape)} has {far} value(s) with |x| > "
                f"{limit:.3g} (1e3 x the training split's |x| 99th "
                f"percentile {float(p99):.3g}), first at sample {first}, "
                f"largest {largest:.3g}: far outside the training "
                "statistics; check the features' units and scaling."
            )
    return messages


def warn_far_outside(arrays, attributes, split, path=None):
    """Warns (`FeatureRangeWarning`) for every message of `far_outside`."""
    messages = far_outside(arrays, attributes, split, path)
    for message in messages:
        warnings.warn(message, FeatureRangeWarning, stacklevel=2)
    return messages

"""The standard msakeras HDF5 layout: names, dtypes, ranks and validation.

One file per dataset, one group per split (`train`, `valid`, `test`), one
HDF5 dataset per key. Every writer (`write_dataset`, the converters in
`data_prep/`, the synthetic generator) and every reader (`load_split`,
`FeatureSequence`) calls `validate_split()`, so one schema serves both
sides.

| key | dtype, shape | content |
|---|---|---|
| `text_token_ids` | int32 `(N, L)` | `[CLS] ... [SEP]`, right-padded with 0 |
| `text_padding_mask` | int8 `(N, L)` | 1 = real token |
| `text_segment_ids` | int32 `(N, L)` | optional; zeros |
| `audio`, `vision` | float32 `(N, T, F)` | right-padded, finite |
| `audio_mask`, `vision_mask` | int8 `(N, T)` | from the release's lengths |
| `label` | float32 `(N,)` | multimodal sentiment |
| `label_text`, `label_audio`, `label_vision` | float32 `(N,)` | optional |
| `index` | int32 `(N,)` | `0..N-1` within the split |
| `id` | UTF-8 strings `(N,)` | clip id |
| `raw_text` | UTF-8 strings `(N,)` | optional transcript |
"""

import collections
import collections.abc

import numpy as np

FORMAT_VERSION = 1
"""The `format_version` file attribute this code writes and reads."""

SPLITS = ("train", "valid", "test")
"""Split (group) names of a standard file."""

MODEL_INPUT_KEYS = (
    "text_token_ids",
    "text_padding_mask",
    "audio",
    "audio_mask",
    "vision",
    "vision_mask",
    "index",
)
"""Keys that models take as named inputs (`keras.Input` names)."""

LABEL_KEYS = ("label", "label_text", "label_audio", "label_vision")
"""Label keys: the multimodal label and the optional unimodal ones."""

KeySpec = collections.namedtuple("KeySpec", ["kind", "dtype", "rank"])

KEY_SPECS = {
    "text_token_ids": KeySpec("token_ids", "int32", 2),
    "text_padding_mask": KeySpec("mask", "int8", 2),
    "text_segment_ids": KeySpec("token_ids", "int32", 2),
    "audio": KeySpec("features", "float32", 3),
    "audio_mask": KeySpec("mask", "int8", 2),
    "vision": KeySpec("features", "float32", 3),
    "vision_mask": KeySpec("mask", "int8", 2),
    "label": KeySpec("label", "float32", 1),
    "label_text": KeySpec("label", "float32", 1),
    "label_audio": KeySpec("label", "float32", 1),
    "label_vision": KeySpec("label", "float32", 1),
    "index": KeySpec("index", "int32", 1),
    "id": KeySpec("string", "str", 1),
    "raw_text": KeySpec("string", "str", 1),
}
"""Every allowed key with its kind, NumPy dtype (`"str"`: UTF-8) and rank."""

REQUIRED_KEYS = (
    "text_token_ids",
    "text_padding_mask",
    "audio",
    "audio_mask",
    "vision",
    "vision_mask",
    "label",
    "index",
    "id",
)
"""Keys every split must hold; the others in `KEY_SPECS` are optional."""

MASK_OF = {
    "text_token_ids": "text_padding_mask",
    "text_segment_ids": "text_padding_mask",
    "audio": "audio_mask",
    "vision": "vision_mask",
}
"""The mask whose `(N, steps)` shape each sequence key must match."""

LABEL_RANGES = {
    "mosi": (-3.0, 3.0),
    "mosei": (-3.0, 3.0),
    "sims": (-1.0, 1.0),
}
"""Closed label ranges per base dataset name."""

RELEASE_FEATURE_WIDTHS = {
    "mosi": {"audio": 5, "vision": 20},
    "mosei": {"audio": 74, "vision": 35},
    "sims": {"audio": 33, "vision": 709},
}
"""Audio/vision feature widths of the released feature pickles per dataset.

MMSA `unaligned_50.pkl`/`aligned_50.pkl` (MOSI 5/20, MOSEI 74/35; MMSA's
`config_regression.json` `feature_dims`) and `unaligned_39.pkl` (SIMS:
33-d librosa, 709-d OpenFace2); the MulT/CMU noalign pickles that MMIM's
code reads have the same MOSI/MOSEI widths.
"""

RELEASED_FEATURE_SOURCES = ("MMSA pickle", "MulT/CMU noalign pickle")
"""`source_release` prefixes of files holding those released features.

DECISION: only these are held to `RELEASE_FEATURE_WIDTHS`. Files from
`.csd` sequences, per-clip CSV/NumPy features, `write_dataset` with your
own features, or the synthetic generator choose their own feature sets
(COVAREP is 74-d for MOSI too), so their widths are not checked.
"""

FILE_ATTRIBUTES = (
    "format_version",
    "dataset",
    "source_release",
    "text_vocabulary",
    "audio_dim",
    "vision_dim",
    "text_max_length",
    "audio_max_length",
    "vision_max_length",
    "padding_side",
)
"""File attributes of a standard file."""

# Rows checked at a time, so MOSEI-sized arrays (or h5py datasets) never
# need a second full-size temporary in memory.
_CHUNK_ROWS = 1024


def base_dataset_name(dataset):
    """Maps a dataset name to its base: `synthetic_mosi` -> `mosi`.

    Args:
        dataset: str. A dataset name such as `"mosi"`, `"MOSEI"`,
            `"synthetic_sims"` or `"simsv2"`.

    Returns:
        The lower-case base name (`"mosi"`, `"mosei"`, `"sims"`), or the
        lower-cased name itself when it is not a known dataset.
    """
    name = str(dataset).lower()
    if name.startswith("synthetic_"):
        name = name[len("synthetic_") :]
    if name.startswith("sims"):
        return "sims"
    return name


def label_range(dataset):
    """The closed `(low, high)` label range of a dataset, or None if unknown.

    Args:
        dataset: str. A dataset name (`"mosi"`, `"synthetic_sims"`, ...).

    Returns:
        A `(low, high)` tuple of floats, or `None` for an unknown dataset.
    """
    return LABEL_RANGES.get(base_dataset_name(dataset))


def check_release_widths(shapes, dataset, path=None, source_release=None):
    """Checks audio/vision widths against the named dataset's release.

    A SIMS pickle converted as MOSI (widths 33/709 instead of 5/20) would
    otherwise train and score under MOSI's protocol without complaint.

    Args:
        shapes: dict. Maps `"audio"`/`"vision"` to a shape `(N, T, F)`
            (other keys are ignored).
        dataset: str. The dataset name (`"mosi"`, ...); names not in
            `RELEASE_FEATURE_WIDTHS` are not checked.
        path: str or None. The file, for messages.
        source_release: str or None. The file's `source_release`
            attribute; when given, only files whose value starts with one
            of `RELEASED_FEATURE_SOURCES` are checked. `None` (converters
            of those releases) always checks.

    Raises:
        ValueError: naming the file, the key, its shape and the expected
            width.
    """
    expected = RELEASE_FEATURE_WIDTHS.get(str(dataset).lower())
    if expected is None:
        return
    if source_release is not None and not str(source_release).startswith(
        RELEASED_FEATURE_SOURCES
    ):
        return
    where = "Data" if path is None else f"File '{path}'"
    for key, width in expected.items():
        if key not in shapes:
            continue
        shape = tuple(int(size) for size in shapes[key])
        if shape[-1] != width:
            others = [
                name
                for name, widths in RELEASE_FEATURE_WIDTHS.items()
                if widths[key] == shape[-1]
            ]
            hint = f" (that is {others[0]}'s width)" if others else ""
            raise ValueError(
                f"{where}: key '{key}' has shape {shape}, feature width "
                f"{shape[-1]}{hint}, but dataset '{dataset}' has {key} "
                f"width {width} in its released features. Convert with the "
                "right --dataset."
            )


def _location(path, split_name):
    if path is None:
        return f"Split '{split_name}'"
    return f"File '{path}', split '{split_name}'"


def _is_string_dtype(array):
    kind = np.dtype(array.dtype).kind
    if kind in ("U", "S"):
        return True
    if kind == "O":
        # h5py's variable-length strings surface as object dtype.
        return True
    return False


def _first_bad_row(array, is_bad_rows):
    """Index of the first row where `is_bad_rows(chunk)` is True, or None."""
    num_rows = array.shape[0]
    for start in range(0, num_rows, _CHUNK_ROWS):
        chunk = np.asarray(array[start : start + _CHUNK_ROWS])
        bad = is_bad_rows(chunk)
        if np.any(bad):
            return start + int(np.argmax(bad))
    return None


def _rows_not_finite(chunk):
    flat = chunk.reshape(chunk.shape[0], -1)
    return ~np.all(np.isfinite(flat), axis=1)


def _rows_not_binary(chunk):
    return ~np.all((chunk == 0) | (chunk == 1), axis=1)


def _rows_left_padded(chunk):
    # A right-padded row is 1s then 0s: it never steps up from 0 to 1.
    return np.any(np.diff(chunk.astype(np.int8), axis=1) > 0, axis=1)


def validate_split(arrays, split_name, path=None, dataset=None, labelled=True):
    """Checks one split against the standard schema.

    Checks, in order: known keys, required keys, dtype, rank, a non-empty
    split, matching sample counts, matching step counts between each
    sequence and its mask, masks only 0/1 and right-padded (each row 1s
    then 0s), token ids non-negative and 0 wherever the text mask is 0,
    finite features and labels, labels in the dataset's range (when
    `dataset` is known), and `index == arange(N)`. Every failure is one
    `ValueError` naming the file (if given), the split, the key, its shape
    and, where relevant, the first offending sample index.

    Args:
        arrays: dict. Maps keys to NumPy arrays, or to any array-like with
            `shape`, `dtype` and row slicing (such as `h5py.Dataset`, read
            1024 rows at a time).
        split_name: str. The split, for messages (`"train"`, ...).
        path: str or None. The file, for messages. Defaults to `None`.
        dataset: str or None. Dataset name; when it is a known dataset
            (`mosi`, `mosei`, `sims`, or `synthetic_<name>`), labels must
            lie in its range. Defaults to `None` (no range check).
        labelled: bool. Whether `label` is required. `False` (prediction
            inputs) checks everything else the same way, counting samples
            on `text_token_ids`. Defaults to `True`.

    Returns:
        The number of samples `N` of the split.

    Example:

    ```python
    arrays = msakeras.data.load_split("mosi.h5", "train")
    num_samples = msakeras.data.validate_split(
        arrays, "train", path="mosi.h5", dataset="mosi")
    ```
    """
    where = _location(path, split_name)
    if not isinstance(arrays, collections.abc.Mapping):
        raise ValueError(
            f"{where}: expected a dict of arrays, got {type(arrays).__name__}."
        )
    unknown = sorted(set(arrays) - set(KEY_SPECS))
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown}; allowed keys are "
            f"{sorted(KEY_SPECS)}."
        )
    required = [k for k in REQUIRED_KEYS if labelled or k != "label"]
    missing = [key for key in required if key not in arrays]
    if missing:
        raise ValueError(
            f"{where}: missing required key(s) {missing}; present keys are "
            f"{sorted(arrays)}."
        )

    # Structure: dtype, rank, sample and step counts.
    for key, array in arrays.items():
        spec = KEY_SPECS[key]
        shape = tuple(array.shape)
        if spec.dtype == "str":
            if not _is_string_dtype(array):
                raise ValueError(
                    f"{where}: key '{key}' with shape {shape} must hold "
                    f"strings, got dtype {array.dtype}."
                )
        elif np.dtype(array.dtype) != np.dtype(spec.dtype):
            raise ValueError(
                f"{where}: key '{key}' with shape {shape} must have dtype "
                f"{spec.dtype}, got {array.dtype}."
            )
        if len(shape) != spec.rank:
            raise ValueError(
                f"{where}: key '{key}' must have rank {spec.rank}, got "
                f"shape {shape} (rank {len(shape)})."
            )
    count_key = "label" if "label" in arrays else "text_token_ids"
    num_samples = int(arrays[count_key].shape[0])
    if num_samples == 0:
        raise ValueError(
            f"{where}: the split is empty (key '{count_key}' has shape "
            f"{tuple(arrays[count_key].shape)})."
        )
    for key, array in arrays.items():
        if array.shape[0] != num_samples:
            raise ValueError(
                f"{where}: key '{key}' has shape {tuple(array.shape)}, i.e. "
                f"{array.shape[0]} samples, but '{count_key}' has "
                f"{num_samples}."
            )
    for key, mask_key in MASK_OF.items():
        if key not in arrays:
            continue
        shape = tuple(arrays[key].shape)
        mask_shape = tuple(arrays[mask_key].shape)
        if shape[:2] != mask_shape:
            raise ValueError(
                f"{where}: key '{key}' has shape {shape} but its mask "
                f"'{mask_key}' has shape {mask_shape}; the first two "
                "dimensions (samples, steps) must match."
            )
    for key in ("audio", "vision"):
        shape = tuple(arrays[key].shape)
        if shape[1] == 0 or shape[2] == 0:
            raise ValueError(
                f"{where}: key '{key}' has shape {shape}; steps and feature "
                "width must be positive."
            )

    # Values.
    for key, array in arrays.items():
        spec = KEY_SPECS[key]
        shape = tuple(array.shape)
        if spec.kind == "mask":
            bad = _first_bad_row(array, _rows_not_binary)
            if bad is not None:
                raise ValueError(
                    f"{where}: key '{key}' with shape {shape} must hold only "
                    f"0 and 1; sample {bad} has {np.unique(array[bad])}."
                )
            bad = _first_bad_row(array, _rows_left_padded)
            if bad is not None:
                raise ValueError(
                    f"{where}: key '{key}' with shape {shape} is not right-"
                    f"padded: sample {bad} has a 1 after a 0 "
                    f"({np.asarray(array[bad]).tolist()}). Move padding to "
                    "the end of each sequence."
                )
        elif spec.kind in ("features", "label"):
            bad = _first_bad_row(array, _rows_not_finite)
            if bad is not None:
                raise ValueError(
                    f"{where}: key '{key}' with shape {shape} must be finite; "
                    f"sample {bad} holds NaN or inf."
                )
        elif spec.kind == "token_ids":
            bad = _first_bad_row(array, lambda rows: np.any(rows < 0, axis=1))
            if bad is not None:
                raise ValueError(
                    f"{where}: key '{key}' with shape {shape} must be "
                    f"non-negative; sample {bad} has a negative id."
                )

    text_mask = arrays["text_padding_mask"]
    for key in ("text_token_ids", "text_segment_ids"):
        if key not in arrays:
            continue
        token_ids = arrays[key]
        for start in range(0, num_samples, _CHUNK_ROWS):
            ids = np.asarray(token_ids[start : start + _CHUNK_ROWS])
            mask = np.asarray(text_mask[start : start + _CHUNK_ROWS])
            bad = np.any((mask == 0) & (ids != 0), axis=1)
            if np.any(bad):
                raise ValueError(
                    f"{where}: key '{key}' with shape "
                    f"{tuple(token_ids.shape)} must be 0 where "
                    "'text_padding_mask' is 0; sample "
                    f"{start + int(np.argmax(bad))} is not."
                )

    limits = label_range(dataset) if dataset is not None else None
    if limits is not None:
        low, high = limits
        for key in LABEL_KEYS:
            if key not in arrays:
                continue
            labels = np.asarray(arrays[key][:])
            outside = (labels < low) | (labels > high)
            if np.any(outside):
                bad = int(np.argmax(outside))
                raise ValueError(
                    f"{where}: key '{key}' with shape {labels.shape} must lie "
                    f"in [{low}, {high}] for dataset '{dataset}'; sample "
                    f"{bad} is {labels[bad]}."
                )

    index = np.asarray(arrays["index"][:])
    expected = np.arange(num_samples)
    if not np.array_equal(index, expected):
        bad = int(np.argmax(index != expected))
        raise ValueError(
            f"{where}: key 'index' with shape {index.shape} must equal "
            f"arange({num_samples}); sample {bad} is {index[bad]}."
        )
    return num_samples


def cast_to_schema(arrays):
    """Casts known keys to their schema dtypes (values are not checked).

    Converters call this before `validate_split` to accept, say, float64
    features or int64 masks. Strings become NumPy unicode arrays.

    Args:
        arrays: dict. Maps keys to array-likes.

    Returns:
        A new dict with the same keys and NumPy arrays of schema dtypes;
        unknown keys are passed through unchanged (and later refused by
        `validate_split`).
    """
    result = {}
    for key, value in arrays.items():
        spec = KEY_SPECS.get(key)
        if spec is None:
            result[key] = value
        elif spec.dtype == "str":
            result[key] = np.asarray(
                [
                    item.decode("utf-8") if isinstance(item, bytes) else item
                    for item in np.asarray(value, dtype=object).tolist()
                ],
                dtype=str,
            )
        else:
            result[key] = np.asarray(value).astype(spec.dtype)
    return result

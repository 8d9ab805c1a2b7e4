"""Writing and reading the standard msakeras HDF5 file."""

import os
import tempfile

import h5py
import numpy as np

from msakeras.callbacks import atomic_files
from msakeras.data import feature_statistics
from msakeras.data import hdf5_safety
from msakeras.data import schema

# Target bytes per chunk: small enough that a shuffled batch reads little
# more than its own rows, large enough to keep the chunk index small.
_CHUNK_BYTES = 1 << 16


def _chunk_shape(array):
    row_shape = tuple(array.shape[1:])
    if array.dtype.kind in ("U", "S", "O"):
        row_bytes = 64
    else:
        row_bytes = max(1, int(np.prod(row_shape, dtype=np.int64)))
        row_bytes *= array.dtype.itemsize
    rows = max(1, min(array.shape[0], _CHUNK_BYTES // row_bytes))
    return (rows,) + row_shape


def _to_python(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _derived_attributes(splits, path):
    """Feature widths and maximum lengths, the same across all splits."""
    derived = {}
    for name, (key, axis) in {
        "audio_dim": ("audio", 2),
        "vision_dim": ("vision", 2),
        "text_max_length": ("text_token_ids", 1),
        "audio_max_length": ("audio", 1),
        "vision_max_length": ("vision", 1),
    }.items():
        values = {
            split: arrays[key].shape[axis] for split, arrays in splits.items()
        }
        if name.endswith("_dim") and len(set(values.values())) > 1:
            raise ValueError(
                f"File '{path}': key '{key}' must have the same feature "
                f"width in every split, got {values}."
            )
        derived[name] = int(max(values.values()))
    return derived


def _checked_attributes(attributes, splits, path):
    attributes = dict(attributes or {})
    version = attributes.get("format_version", schema.FORMAT_VERSION)
    if version != schema.FORMAT_VERSION:
        raise ValueError(
            f"File '{path}': attribute format_version={version!r} cannot be "
            f"written; this version of msakeras writes format_version="
            f"{schema.FORMAT_VERSION}."
        )
    if "dataset" not in attributes:
        raise ValueError(
            f"File '{path}': attributes must name the dataset (for example "
            "{'dataset': 'mosi'}); got keys "
            f"{sorted(attributes)}."
        )
    padding_side = attributes.get("padding_side", "right")
    if padding_side != "right":
        raise ValueError(
            f"File '{path}': padding_side must be 'right', got "
            f"{padding_side!r}."
        )
    derived = _derived_attributes(splits, path)
    for name, value in derived.items():
        if name in attributes and int(attributes[name]) != value:
            raise ValueError(
                f"File '{path}': attribute {name}={attributes[name]!r} "
                f"disagrees with the arrays ({value})."
            )
    attributes.update(derived)
    attributes["format_version"] = schema.FORMAT_VERSION
    attributes["padding_side"] = "right"
    attributes.setdefault("source_release", "unknown")
    attributes.setdefault("text_vocabulary", "unknown")
    for name, value in attributes.items():
        if value is None:
            raise ValueError(
                f"File '{path}': attribute '{name}' is None; HDF5 "
                "attributes need a value."
            )
    return attributes


def write_dataset(path, splits, attributes, overwrite=False):
    """Writes a standard msakeras HDF5 file, atomically.

    Every split is validated (`schema.validate_split`) before anything is
    written; the file is then written to a temporary file in the same
    directory and moved into place with `os.replace`, so a failure never
    leaves a half-written file at `path`. Datasets are chunked along the
    sample axis. The attributes `format_version`, `padding_side`,
    `audio_dim`, `vision_dim` and `<text|audio|vision>_max_length` are
    filled in from the arrays, and, when there is a `train` split, the
    statistics of its valid audio/vision frames
    (`<modality>_train_{mean,std,min,max,abs_p99}`; values far outside
    them, in any split, warn: `feature_statistics`).

    Args:
        path: str or path-like. The `.h5` file to write.
        splits: dict. Maps split names (`"train"`, `"valid"`, `"test"`) to
            dicts of NumPy arrays keyed as in `schema.KEY_SPECS`.
        attributes: dict. File attributes; must hold `dataset` (`"mosi"`,
            `"synthetic_mosi"`, ...). Usually also `source_release` and
            `text_vocabulary`.
        overwrite: bool. Replace an existing file. Defaults to `False`.

    Returns:
        The path written, as a string.

    Example:

    ```python
    msakeras.data.write_dataset(
        "mosi.h5", {"train": train_arrays, "valid": valid_arrays,
                    "test": test_arrays},
        {"dataset": "mosi", "source_release": "MMSA unaligned_50.pkl",
         "text_vocabulary": "bert_base_uncased"})
    ```
    """
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"File '{path}' already exists; pass overwrite=True to replace it."
        )
    if not isinstance(splits, dict) or not splits:
        raise ValueError(
            f"File '{path}': `splits` must be a non-empty dict of split "
            f"name -> arrays, got {splits!r:.80}."
        )
    unknown = sorted(set(splits) - set(schema.SPLITS))
    if unknown:
        raise ValueError(
            f"File '{path}': unknown split(s) {unknown}; allowed splits are "
            f"{list(schema.SPLITS)}."
        )
    dataset = (attributes or {}).get("dataset")
    for split, arrays in splits.items():
        schema.validate_split(arrays, split, path=path, dataset=dataset)
        schema.check_release_widths(
            {key: np.shape(arrays[key]) for key in ("audio", "vision")},
            dataset,
            f"{path}', split '{split}",
            source_release=(attributes or {}).get("source_release", ""),
        )
    attributes = _checked_attributes(attributes, splits, path)
    if "train" in splits:  # what readers compare inputs with
        attributes.update(
            feature_statistics.compute_statistics(splits["train"])
        )
        for split, arrays in splits.items():
            feature_statistics.warn_far_outside(arrays, attributes, split, path)

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary_path = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        with h5py.File(temporary_path, "w") as file:
            for name, value in attributes.items():
                file.attrs[name] = value
            for split in schema.SPLITS:
                if split not in splits:
                    continue
                group = file.create_group(split)
                for key, array in splits[split].items():
                    array = np.asarray(array)
                    if schema.KEY_SPECS[key].dtype == "str":
                        strings = [
                            item.decode("utf-8")
                            if isinstance(item, bytes)
                            else str(item)
                            for item in array.tolist()
                        ]
                        group.create_dataset(
                            key,
                            data=np.asarray(strings, dtype=object),
                            dtype=h5py.string_dtype("utf-8"),
                            chunks=_chunk_shape(array),
                        )
                    else:
                        group.create_dataset(
                            key, data=array, chunks=_chunk_shape(array)
                        )
        os.chmod(
            temporary_path, 0o666 & ~atomic_files.user_umask()
        )  # mkstemp made 0600
        os.replace(temporary_path, path)
    except BaseException:
        if os.path.exists(temporary_path):
            os.remove(temporary_path)
        raise
    return path


def _check_version(attributes, path):
    if "format_version" not in attributes:
        raise ValueError(
            f"File '{path}' has no 'format_version' attribute: it is not a "
            "standard msakeras file (write it with "
            "msakeras.data.write_dataset or a data_prep converter)."
        )
    version = attributes["format_version"]
    if version != schema.FORMAT_VERSION:
        raise ValueError(
            f"File '{path}' has format_version={version!r}, but this version "
            f"of msakeras reads format_version={schema.FORMAT_VERSION}. "
            "Re-convert the data or update msakeras."
        )


def open_dataset(path):
    """Opens a standard file read-only after checking its format version.

    The caller owns the returned handle (use it as a context manager).
    Never share it across processes: open the file again in each one.

    Args:
        path: str or path-like. The `.h5` file.

    Returns:
        An open, read-only `h5py.File`.

    Example:

    ```python
    with msakeras.data.open_dataset("mosi.h5") as file:
        print(file["train"]["audio"].shape)
    ```
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Dataset file '{path}' does not exist.")
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(
            f"File '{path}' is not a readable HDF5 file: {error}"
        ) from error
    try:
        _check_version(
            {name: _to_python(value) for name, value in file.attrs.items()},
            path,
        )
        hdf5_safety.check_self_contained(file, path)
    except BaseException:
        file.close()
        raise
    return file


def read_attributes(path):
    """Reads the file attributes of a standard file.

    Args:
        path: str or path-like. The `.h5` file.

    Returns:
        A dict of plain Python values (`str`, `int`, `float`).

    Example:

    ```python
    attributes = msakeras.data.read_attributes("mosi.h5")
    attributes["dataset"], attributes["audio_dim"]
    ```
    """
    with open_dataset(path) as file:
        return {name: _to_python(value) for name, value in file.attrs.items()}


def get_split(file, split, path=None):
    """The group of one split in an open file, with a clear error if absent.

    Args:
        file: `h5py.File`. An open standard file.
        split: str. `"train"`, `"valid"` or `"test"`.
        path: str or None. The file name for messages; defaults to
            `file.filename`.

    Returns:
        The `h5py.Group` of the split.
    """
    path = path if path is not None else file.filename
    if split not in file:
        raise ValueError(
            f"File '{path}' has no split '{split}'; available splits are "
            f"{sorted(file.keys())}."
        )
    return file[split]


def load_split(path, split, keys=None):
    """Reads one split into memory as NumPy arrays, validated.

    Strings (`id`, `raw_text`) come back as NumPy unicode arrays.

    Args:
        path: str or path-like. The `.h5` file.
        split: str. `"train"`, `"valid"` or `"test"`.
        keys: list of str or None. Keys to return (all are still
            validated). Defaults to `None`: every key of the split.

    Returns:
        A dict mapping keys to NumPy arrays.

    Example:

    ```python
    test = msakeras.data.load_split("mosi.h5", "test")
    test["audio"].shape  # (686, 375, 5)
    ```
    """
    path = os.fspath(path)
    with open_dataset(path) as file:
        dataset = _to_python(file.attrs.get("dataset", None))
        group = get_split(file, split, path)
        arrays = {}
        for key, item in group.items():
            if isinstance(item, h5py.Dataset) and item.dtype.kind == "O":
                arrays[key] = np.asarray(item.asstr()[()], dtype=str)
            else:
                arrays[key] = item[()]
    schema.validate_split(arrays, split, path=path, dataset=dataset)
    if keys is not None:
        missing = [key for key in keys if key not in arrays]
        if missing:
            raise ValueError(
                f"File '{path}', split '{split}': missing key(s) {missing}; "
                f"present keys are {sorted(arrays)}."
            )
        arrays = {key: arrays[key] for key in keys}
    return arrays


def validate_file(path, splits=schema.SPLITS):
    """Validates every split of a standard file, streamed, before training.

    Faults in the test split (a missing split, bad keys, NaN) are found
    before any training rather than after it, and a released feature file
    whose widths are another dataset's is refused
    (`schema.check_release_widths`). Features far outside the training
    statistics the file recorded warn (`feature_statistics`).

    DECISION: this reads the test split before model selection is sealed
    (`msakeras.experiment.HeldOutTestSplit`), but only to check the schema:
    it returns sample counts, and no value reaches training or selection.

    Args:
        path: str or path-like. The `.h5` file.
        splits: the splits that must be present. Defaults to all three.

    Returns:
        `{split: number of samples}`.
    """
    path = os.fspath(path)
    counts = {}
    with open_dataset(path) as file:
        dataset = _to_python(file.attrs.get("dataset", None))
        source = _to_python(file.attrs.get("source_release", ""))
        for split in splits:
            group = get_split(file, split, path)
            arrays = {key: group[key] for key in group.keys()}
            counts[split] = schema.validate_split(
                arrays, split, path=path, dataset=dataset
            )
            schema.check_release_widths(
                {key: arrays[key].shape for key in arrays},
                dataset,
                f"{path}', split '{split}",
                source_release=source,
            )
        attributes = {k: _to_python(v) for k, v in file.attrs.items()}
        for split in splits:
            group = file[split]
            arrays = {key: group[key] for key in group.keys()}
            feature_statistics.warn_far_outside(arrays, attributes, split, path)
    return counts

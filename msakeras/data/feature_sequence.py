"""`FeatureSequence`: one split of a standard file as Keras batches."""

import math
import os

import h5py
import keras
import numpy as np

from msakeras.data import hdf5_store
from msakeras.data import schema

_CASTS = {
    "token_ids": "int32",
    "mask": "int32",
    "features": "float32",
    "index": "int32",
    "label": "float32",
}


class FeatureSequence(keras.utils.PyDataset):
    """Serves one split of a standard HDF5 file as `(inputs, label)` batches.

    Reading goes through h5py, so MOSEI-sized arrays never need to fit in
    memory. The file is opened lazily, once per process (a worker process
    opens its own handle; handles are never shared across processes). A
    seeded permutation fixes which samples form each batch; it is redrawn
    in `on_epoch_end`, deterministically from `seed` and the epoch count.
    Each batch's rows are read in increasing order (h5py needs increasing
    indices), so samples within a batch come sorted while batch membership
    stays random. Masks, token ids and `index` are cast to int32, features
    and labels to float32; labels have shape `(batch, 1)`.

    Args:
        path: str or path-like. A standard `.h5` file.
        split: str. `"train"`, `"valid"` or `"test"`.
        batch_size: int. Samples per batch; the last batch may be smaller.
            Defaults to `32`.
        input_keys: list of str or None. Keys of the inputs dict, usually
            the model's input names (`[t.name for t in model.inputs]`).
            Defaults to `None`: those of `text_token_ids`,
            `text_padding_mask`, `audio`, `audio_mask`, `vision`,
            `vision_mask`, `index` present in the file.
        shuffle: bool. Shuffle batch membership, redrawn every epoch.
            Defaults to `True`.
        seed: int. Seed of the permutation. Defaults to `0`.
        label_key: str. The label returned as `y`. Defaults to `"label"`.
        label_keys: list of str or None. If given, `y` is a dict mapping
            each of these label keys (e.g. `label`, `label_text`, ... on
            SIMS) to a `(batch, 1)` array, and `label_key` is ignored.
            Defaults to `None`.
        max_samples: int or None. Serve only the first `max_samples`
            samples of the split (fast demos). Defaults to `None` (all).
        validate: bool. Run `schema.validate_split` over the split once,
            reading it in chunks. Defaults to `True`.
        shard_index, shard_count: int. Data parallelism: this sequence
            serves only its piece of every global batch. The permutation
            (same `seed` in every process) cuts the split into global
            batches of `batch_size` rows; each global batch's sorted rows
            are cut into `shard_count` contiguous pieces
            (`numpy.array_split`) and shard `shard_index` reads only its
            own piece from the file. The pieces of all shards, in shard
            order, are exactly the unsharded batch, so `shard_count`
            processes see the same global batches as one. `len()` is the
            same for every shard. Defaults to `0` and `1` (no sharding).
        **kwargs: passed to `keras.utils.PyDataset` (`workers`,
            `use_multiprocessing`, `max_queue_size`).

    Example:

    ```python
    train = msakeras.data.FeatureSequence(
        "mosi.h5", "train", batch_size=32,
        input_keys=[tensor.name for tensor in model.inputs])
    valid = msakeras.data.FeatureSequence(
        "mosi.h5", "valid", shuffle=False)
    model.fit(train, validation_data=valid, epochs=10)
    ```
    """

    def __init__(
        self,
        path,
        split,
        batch_size=32,
        input_keys=None,
        shuffle=True,
        seed=0,
        label_key="label",
        label_keys=None,
        max_samples=None,
        validate=True,
        shard_index=0,
        shard_count=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not (int(shard_count) >= 1 and 0 <= int(shard_index) < shard_count):
            raise ValueError(
                "`shard_index` must be in [0, shard_count) and `shard_count` "
                f"at least 1; received shard_index={shard_index}, "
                f"shard_count={shard_count}."
            )
        if int(shard_count) > int(batch_size):
            raise ValueError(
                f"`batch_size` ({batch_size}) is the global batch: it must "
                f"be at least `shard_count` ({shard_count})."
            )
        self.shard_index = int(shard_index)
        self.shard_count = int(shard_count)
        self.path = os.fspath(path)
        self.split = split
        if int(batch_size) < 1:
            raise ValueError(
                f"`batch_size` must be a positive integer, got {batch_size}."
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.label_key = label_key
        self.label_keys = None if label_keys is None else list(label_keys)
        self.max_samples = max_samples
        self.epoch = 0
        self._file = None
        self._file_pid = None

        with hdf5_store.open_dataset(self.path) as file:
            self._attributes = {
                name: hdf5_store._to_python(value)
                for name, value in file.attrs.items()
            }
            group = hdf5_store.get_split(file, split, self.path)
            present = [
                key
                for key, item in group.items()
                if isinstance(item, h5py.Dataset)
            ]
            if validate:
                schema.validate_split(
                    {key: group[key] for key in present},
                    split,
                    path=self.path,
                    dataset=self._attributes.get("dataset"),
                )
            if "label" not in group:
                raise ValueError(
                    f"File '{self.path}', split '{split}': missing key "
                    f"'label'; present keys are {sorted(present)}."
                )
            file_samples = int(group["label"].shape[0])
        if file_samples == 0:
            raise ValueError(f"File '{self.path}', split '{split}' is empty.")

        if input_keys is None:
            input_keys = [
                key for key in schema.MODEL_INPUT_KEYS if key in present
            ]
        self.input_keys = list(input_keys)
        wanted_labels = self.label_keys or [label_key]
        for key in self.input_keys + wanted_labels:
            if key not in present:
                raise ValueError(
                    f"File '{self.path}', split '{split}': missing key "
                    f"'{key}'; present keys are {sorted(present)}."
                )
            spec = schema.KEY_SPECS.get(key)
            if spec is not None and spec.dtype == "str":
                raise ValueError(
                    f"File '{self.path}', split '{split}': key '{key}' holds "
                    "strings and cannot be a model input or label."
                )

        if max_samples is not None:
            if int(max_samples) < 1:
                raise ValueError(
                    f"`max_samples` must be a positive integer or None, got "
                    f"{max_samples}."
                )
            file_samples = min(file_samples, int(max_samples))
        self._num_samples = file_samples
        self._order = self._make_order(self.epoch)

    @property
    def num_samples(self):
        """Number of samples served per epoch."""
        return self._num_samples

    @property
    def attributes(self):
        """The file attributes, as a dict of Python values."""
        return dict(self._attributes)

    def _make_order(self, epoch):
        if not self.shuffle:
            return np.arange(self._num_samples)
        generator = np.random.default_rng([self.seed, epoch])
        return generator.permutation(self._num_samples)

    def _group(self):
        # A handle opened in another process (fork) is unusable here.
        if self._file is None or self._file_pid != os.getpid():
            self._file = hdf5_store.open_dataset(self.path)
            self._file_pid = os.getpid()
        return self._file[self.split]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = None
        state["_file_pid"] = None
        return state

    def __len__(self):
        return math.ceil(self._num_samples / self.batch_size)

    def batch_rows(self, index):
        """The sorted sample indices of batch `index` this epoch.

        With shards, this shard's piece of the global batch `index`.
        """
        if not 0 <= index < len(self):
            raise IndexError(
                f"Batch index {index} out of range for {len(self)} batches."
            )
        start = index * self.batch_size
        rows = np.sort(self._order[start : start + self.batch_size])
        if self.shard_count == 1:
            return rows
        return np.array_split(rows, self.shard_count)[self.shard_index]

    def _read(self, group, key, rows):
        values = group[key][rows]
        kind = schema.KEY_SPECS[key].kind if key in schema.KEY_SPECS else None
        dtype = _CASTS.get(kind)
        if dtype is not None:
            values = values.astype(dtype, copy=False)
        return values

    def __getitem__(self, index):
        rows = self.batch_rows(index)
        group = self._group()
        inputs = {key: self._read(group, key, rows) for key in self.input_keys}
        if self.label_keys is not None:
            labels = {
                key: self._read(group, key, rows).reshape(-1, 1)
                for key in self.label_keys
            }
        else:
            labels = self._read(group, self.label_key, rows).reshape(-1, 1)
        return inputs, labels

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def set_epoch(self, epoch):
        """Sets the epoch count and redraws the batch order for it.

        A resumed run (`msakeras.callbacks.ResumableBackup`) restores the
        count, so it serves the batches an uninterrupted run would.
        """
        self.epoch = int(epoch)
        self._order = self._make_order(self.epoch)

    def get_labels(self, label_key=None):
        """All labels in serving order for the current epoch, `(N,)`.

        Matches the row order of `model.predict(sequence)`.

        Args:
            label_key: str or None. Defaults to `None`: `self.label_key`.

        Returns:
            A float32 NumPy array of shape `(num_samples,)`.
        """
        label_key = label_key or self.label_key
        group = self._group()
        labels = group[label_key][: self._num_samples].astype("float32")
        rows = np.concatenate([self.batch_rows(i) for i in range(len(self))])
        return labels[rows]

    def close(self):
        """Closes this process's file handle (reopened on the next read)."""
        if self._file is not None and self._file_pid == os.getpid():
            self._file.close()
        self._file = None
        self._file_pid = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

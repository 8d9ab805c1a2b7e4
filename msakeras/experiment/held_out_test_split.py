"""`HeldOutTestSplit`: the test split, opened once, after selection."""

import os

import numpy as np

from msakeras.experiment.run_receipt import file_sha256
from msakeras.experiment.selection_rule import SealedSelection


class TestSplitAccessError(RuntimeError):
    """The test split was asked for before selection, or a second time."""

    __test__ = False  # not a pytest test class


class HeldOutTestSplit:
    """The test split of a standard file, read at most once.

    It holds no data until `read(sealed_selection)`: the only key is the
    `SealedSelection` that `SelectionRule.seal` returns after training has
    fixed the best-on-validation checkpoint, so nothing can score the test
    split before selection. `read` refuses a second call and a checkpoint
    that changed since it was sealed. The object is not a dataset: handing
    it to `fit`/`evaluate`/`predict` (or iterating it) raises.

    Args:
        path: str or path-like. A standard `.h5` file.
        split: str. The held-out split's name. Defaults to `"test"`.

    Example:

    ```python
    test = msakeras.experiment.HeldOutTestSplit("mosi.h5")
    ...  # fit with SelectionRule callbacks on train / valid
    data = test.read(rule.seal("model.keras", history.history))
    predictions = data.predict(keras.models.load_model("model.keras"))
    ```
    """

    __test__ = False

    def __init__(self, path, split="test"):
        self.path = os.fspath(path)
        self.split = split
        self._read_by = None

    @property
    def was_read(self):
        return self._read_by is not None

    def read(self, sealed_selection):
        """Reads the split once; returns a `HeldOutTestData`."""
        if not isinstance(sealed_selection, SealedSelection):
            raise TestSplitAccessError(
                f"The {self.split!r} split of '{self.path}' opens only with "
                "the SealedSelection from SelectionRule.seal(), after the "
                "best-on-validation checkpoint is fixed; got "
                f"{type(sealed_selection).__name__}."
            )
        if self._read_by is not None:
            raise TestSplitAccessError(
                f"The {self.split!r} split of '{self.path}' was already read "
                f"for checkpoint '{self._read_by}'; it is read once."
            )
        current = file_sha256(sealed_selection.checkpoint_path)
        if current != sealed_selection.checkpoint_sha256:
            raise TestSplitAccessError(
                f"Checkpoint '{sealed_selection.checkpoint_path}' changed "
                "after selection was sealed (SHA-256 "
                f"{sealed_selection.checkpoint_sha256[:12]}... -> "
                f"{current[:12]}...); refusing to score it on the test split."
            )
        self._read_by = sealed_selection.checkpoint_path
        return HeldOutTestData(self.path, self.split)

    def _refuse(self, *args, **kwargs):
        raise TestSplitAccessError(
            f"HeldOutTestSplit('{self.path}') is not a dataset: call "
            ".read(sealed_selection) after selection, once."
        )

    __len__ = _refuse
    __iter__ = _refuse
    __getitem__ = _refuse

    def __repr__(self):
        state = "read" if self.was_read else "sealed, unread"
        return f"HeldOutTestSplit('{self.path}', {self.split!r}, {state})"


class HeldOutTestData:
    """The held-out split behind a sealed read, served in batches.

    Nothing is loaded whole: `predict` runs the model over a
    `FeatureSequence` of the split (file order), `labels` reads one
    column, `batches` streams chosen keys (`msakeras.data.iterate_split`),
    so a MOSEI-sized file never has to fit in memory. `arrays` loads the
    whole split, for callers that want it.

    Attributes:
        path: str. The file.
        split: str. The split.
    """

    __test__ = False

    def __init__(self, path, split):
        self.path = path
        self.split = split
        self._arrays = None

    @property
    def arrays(self):
        """Every key of the split as whole NumPy arrays (loads it all)."""
        if self._arrays is None:
            from msakeras.data import load_split

            self._arrays = load_split(self.path, self.split)
        return self._arrays

    def keys(self):
        from msakeras.data import hdf5_store

        with hdf5_store.open_dataset(self.path) as file:
            return sorted(hdf5_store.get_split(file, self.split, self.path))

    def has(self, key):
        return key in self.keys()

    def batches(self, keys, batch_size=256):
        """`{key: array}` batches of the split in file order."""
        from msakeras.data import iterate_split

        return iterate_split(self.path, self.split, keys, batch_size)

    def labels(self, key="label"):
        if not self.has(key):
            raise ValueError(
                f"File '{self.path}', split '{self.split}': no key {key!r}; "
                f"present keys are {self.keys()}."
            )
        return np.concatenate(
            [
                np.asarray(batch[key], dtype=np.float64).reshape(-1)
                for batch in self.batches([key])
            ]
        )

    def predict(self, model, batch_size=32, arrays=None):
        """`model.predict` on the split (or on replaced `arrays`).

        Only the model's named inputs are fed, in `batch_size` batches
        read from the file (as `FeatureSequence` casts them: masks int32,
        features float32); `arrays`, a dict of whole arrays, is cast to
        each `keras.Input` dtype instead.
        """
        if arrays is not None:
            return predict_arrays(model, arrays, batch_size)
        from msakeras.data import FeatureSequence

        sequence = FeatureSequence(
            self.path,
            self.split,
            batch_size=batch_size,
            input_keys=[tensor.name for tensor in model.inputs],
            shuffle=False,
        )
        try:
            return model.predict(sequence, verbose=0)
        finally:
            sequence.close()


def model_inputs(model, arrays):
    """The model's named inputs from a dict of split arrays, cast."""
    inputs = {}
    for tensor in model.inputs:
        name = tensor.name
        if name not in arrays:
            raise ValueError(
                f"The model takes input {name!r}, which the data lacks "
                f"(keys: {sorted(arrays)})."
            )
        inputs[name] = np.asarray(arrays[name]).astype(tensor.dtype)
    return inputs


def predict_arrays(model, arrays, batch_size=32):
    return model.predict(
        model_inputs(model, arrays), batch_size=batch_size, verbose=0
    )

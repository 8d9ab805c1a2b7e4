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
        from msakeras.data import load_split

        self._read_by = sealed_selection.checkpoint_path
        return HeldOutTestData(
            load_split(self.path, self.split), self.path, self.split
        )

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
    """The arrays of a held-out split, as `HeldOutTestSplit.read` returns.

    Attributes:
        arrays: dict of NumPy arrays (every key of the split, validated).
        path: str. The file.
        split: str. The split.
    """

    __test__ = False

    def __init__(self, arrays, path, split):
        self.arrays = arrays
        self.path = path
        self.split = split

    def labels(self, key="label"):
        if key not in self.arrays:
            raise ValueError(
                f"File '{self.path}', split '{self.split}': no key {key!r}; "
                f"present keys are {sorted(self.arrays)}."
            )
        return np.asarray(self.arrays[key], dtype=np.float64).reshape(-1)

    def has(self, key):
        return key in self.arrays

    def predict(self, model, batch_size=32, arrays=None):
        """`model.predict` on the split (or on replaced `arrays`).

        Only the model's named inputs are fed, each cast to its
        `keras.Input` dtype (masks int32, features float32).
        """
        return predict_arrays(
            model, self.arrays if arrays is None else arrays, batch_size
        )


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

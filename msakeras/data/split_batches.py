"""`iterate_split`: one split's arrays, batch by batch, in file order.

The streaming read behind every whole-split computation (the sealed test
read, the ridge baselines' training split): it goes through the same
`FeatureSequence` reader that serves training, so a MOSEI-sized (or
larger) file never has to fit in memory.
"""

from msakeras.data.feature_sequence import FeatureSequence


def iterate_split(path, split, keys, batch_size=256, validate=True):
    """Yields `{key: array}` for consecutive rows of a split, in order.

    Args:
        path: str or path-like. A standard `.h5` file.
        split: str. `"train"`, `"valid"` or `"test"`.
        keys: list of str. Numeric keys of the split to read (inputs,
            labels, `index`), cast as `FeatureSequence` casts them.
        batch_size: int. Rows per batch. Defaults to `256`.
        validate: bool. Check the split's schema first (in chunks).
            Defaults to `True`.

    Yields:
        Dicts of NumPy arrays of at most `batch_size` rows; concatenated
        they are the whole split in file order.

    Example:

    ```python
    labels = np.concatenate([
        batch["label"]
        for batch in msakeras.data.iterate_split("mosi.h5", "test", ["label"])
    ])
    ```
    """
    sequence = FeatureSequence(
        path,
        split,
        batch_size=batch_size,
        input_keys=list(keys),
        shuffle=False,
        validate=validate,
    )
    try:
        for index in range(len(sequence)):
            inputs, _ = sequence[index]
            yield inputs
    finally:
        sequence.close()

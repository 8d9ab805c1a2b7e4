"""Checks that a batch fits a model's named inputs, with clear errors."""

import json
import os
import zipfile

import keras
import numpy as np


def model_input_specs(model):
    """`{name: (shape, dtype)}` of a Keras model's named inputs."""
    return {
        tensor.name: (tuple(tensor.shape), str(tensor.dtype))
        for tensor in model.inputs
    }


def check_model_inputs(input_specs, arrays, where, first_sample=0):
    """Raises one `ValueError` if `arrays` cannot feed `input_specs`.

    Checks that every input key is present, that ranks and fixed sizes
    (feature widths such as `audio_dim`) match, and that float inputs are
    finite. Messages name `where` (file and split), the key, both shapes
    and, for non-finite values, the first offending sample.

    Args:
        input_specs: dict `{name: (shape, dtype)}` with `None` for free
            axes (`model_input_specs(model)`, or a SavedModel signature).
        arrays: dict of array-likes (NumPy arrays or `h5py.Dataset`s);
            only `shape` is read unless the input is a float.
        where: str. Location for messages, e.g. `"File 'x.h5', split
            'test'"`.
        first_sample: int. Index of `arrays`' first row in the split, for
            messages. Defaults to `0`.
    """
    missing = [name for name in input_specs if name not in arrays]
    if missing:
        raise ValueError(
            f"{where}: missing key(s) {missing} that the model takes as "
            f"input; present keys are {sorted(arrays)}."
        )
    for name, (shape, dtype) in input_specs.items():
        array = arrays[name]
        actual = tuple(array.shape)
        expected = tuple(shape)
        mismatch = len(actual) != len(expected) or any(
            size is not None and size != got
            for size, got in zip(expected[1:], actual[1:])
        )
        if mismatch:
            readable = tuple("any" if s is None else s for s in expected)
            raise ValueError(
                f"{where}: key '{name}' has shape {actual}, but the model "
                f"expects {readable} (batch first); check the feature "
                "width of the file against the model's."
            )
        if keras.backend.standardize_dtype(dtype).startswith("float"):
            values = np.asarray(array)
            finite = np.isfinite(values.reshape(values.shape[0], -1))
            bad_rows = ~np.all(finite, axis=1)
            if np.any(bad_rows):
                sample = first_sample + int(np.argmax(bad_rows))
                raise ValueError(
                    f"{where}: key '{name}' with shape {actual} holds NaN "
                    f"or inf at sample {sample}; models need finite "
                    "features."
                )


# An msakeras model's config.json is tens of KiB; a larger one is refused
# before it is decompressed (a zip bomb would cost memory twice over).
MAX_CONFIG_BYTES = 16 * 2**20


def keras_file_class(path):
    """The registered class name stored in a `.keras` file's config.

    The decompressed `config.json` must not exceed `MAX_CONFIG_BYTES`.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo("config.json").file_size
            if size > MAX_CONFIG_BYTES:
                raise ValueError(
                    f"File '{path}': config.json inflates to {size} bytes, "
                    f"over the {MAX_CONFIG_BYTES} accepted for a model "
                    "config; refused before decompressing."
                )
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ValueError(
            f"File '{path}' is not a readable .keras archive: {error}"
        ) from error
    return config.get("registered_name") or config.get("class_name")


def load_msa_model(path, expected_class=None, compile=False):
    """Loads an msakeras `.keras` file after checking which model it holds.

    Args:
        path: str. A `.keras` file.
        expected_class: class or None. If given (e.g.
            `msakeras.models.MMIMModel`), a file holding another class is
            refused before anything is built. Defaults to `None`: any
            model with a `sentiment` output.
        compile: bool. Passed to `keras.saving.load_model`. Defaults to
            `False`.

    Returns:
        The loaded model.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file '{path}' does not exist.")
    stored = keras_file_class(path)
    if expected_class is not None:
        wanted = keras.saving.get_registered_name(expected_class)
        if stored != wanted:
            raise ValueError(
                f"File '{path}' holds a '{stored}' model, not a '{wanted}'; "
                "load it with its own class or recipe."
            )
    model = keras.saving.load_model(path, compile=compile)
    outputs = model.output if isinstance(model.output, dict) else {}
    if "sentiment" not in outputs:
        raise ValueError(
            f"File '{path}' holds a '{stored}' model without a 'sentiment' "
            "output; msakeras needs an MSAModel (outputs: "
            f"{sorted(outputs) if outputs else type(model.output).__name__})."
        )
    return model

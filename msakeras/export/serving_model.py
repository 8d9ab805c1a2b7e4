"""`ServingModel`: an exported SavedModel's `serving_default`, callable on
NumPy batches, for `python -m msakeras.predict` under any backend."""

import os

import numpy as np


class ServingModel:
    """A SavedModel version folder loaded through TensorFlow.

    TensorFlow is imported here (the one `msakeras` package allowed to),
    whatever the Keras backend. `input_specs` lists the signature's named
    inputs; calling the object on a dict of NumPy arrays returns a dict of
    NumPy outputs (with `sentiment`).

    Args:
        path: str. A version folder holding `saved_model.pb`
            (`saved_models/mmim_mosi/1`).

    Example:

    ```python
    served = ServingModel("saved_models/mmim_mosi/1")
    outputs = served({"audio": ..., "audio_mask": ..., ...})
    outputs["sentiment"].shape  # (batch, 1)
    ```
    """

    def __init__(self, path):
        import tensorflow as tf

        self.path = os.fspath(path)
        if not os.path.isfile(os.path.join(self.path, "saved_model.pb")):
            raise ValueError(
                f"'{self.path}' is not a SavedModel folder (no "
                "saved_model.pb); pass a version folder such as "
                "saved_models/mmim_mosi/1, or a .keras file."
            )
        self._tf = tf
        self._loaded = tf.saved_model.load(self.path)
        if "serving_default" not in self._loaded.signatures:
            raise ValueError(
                f"SavedModel '{self.path}' has no serving_default signature; "
                f"it has {sorted(self._loaded.signatures)}."
            )
        self._signature = self._loaded.signatures["serving_default"]
        _, keyword_specs = self._signature.structured_input_signature
        self.input_specs = {
            name: (tuple(spec.shape), spec.dtype.name)
            for name, spec in keyword_specs.items()
        }

    def __call__(self, batch):
        tf = self._tf
        feed = {
            name: tf.constant(np.asarray(batch[name]), dtype=dtype)
            for name, (_, dtype) in self.input_specs.items()
        }
        outputs = self._signature(**feed)
        return {name: value.numpy() for name, value in outputs.items()}

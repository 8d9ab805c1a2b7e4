"""The standard HDF5 data format, its reader and the synthetic default.

The public names below load on first access (PEP 562), so a converter that
needs only `msakeras.data.hdf5_safety` or `msakeras.data.restricted_unpickler`
(h5py, pickle) does not import Keras: `--help` stays fast.
"""

import importlib

_PUBLIC = {
    "ContrastivePairSampler": "contrastive_pair_sampler",
    "SamplerRefreshCallback": "contrastive_pair_sampler",
    "retrieve_candidates": "contrastive_pair_sampler",
    "FeatureSequence": "feature_sequence",
    "get_split": "hdf5_store",
    "iterate_split": "split_batches",
    "load_split": "hdf5_store",
    "open_dataset": "hdf5_store",
    "read_attributes": "hdf5_store",
    "validate_file": "hdf5_store",
    "write_dataset": "hdf5_store",
    "FILE_ATTRIBUTES": "schema",
    "FORMAT_VERSION": "schema",
    "KEY_SPECS": "schema",
    "LABEL_KEYS": "schema",
    "LABEL_RANGES": "schema",
    "MODEL_INPUT_KEYS": "schema",
    "REQUIRED_KEYS": "schema",
    "SPLITS": "schema",
    "base_dataset_name": "schema",
    "cast_to_schema": "schema",
    "label_range": "schema",
    "validate_split": "schema",
    "default_synthetic_path": "synthetic",
    "ensure_synthetic_dataset": "synthetic",
    "generate_synthetic_splits": "synthetic",
    "make_synthetic_dataset": "synthetic",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(
            f"module 'msakeras.data' has no attribute {name!r}"
        )
    value = getattr(importlib.import_module(f"msakeras.data.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))

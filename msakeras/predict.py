"""`python -m msakeras.predict`: predictions for a split of an HDF5 file.

    python -m msakeras.predict MODEL --data PATH.h5 [--split test] \
        --output preds.csv [--batch-size 256] [--compile auto|on|off]

`MODEL` is a `.keras` file (loaded with `keras.saving.load_model`) or an
exported SavedModel version folder (`saved_models/mmim_mosi/1`, loaded
through TensorFlow by `msakeras.export.ServingModel`, under any backend).
The split is read batch by batch (contiguous h5py slices), checked against
the model's inputs (keys, feature widths, finite values) and predicted with
a progress bar, so memory stays bounded whatever the file size. The CSV
(`id`, `index`, `prediction`, and `label` when the split has labels) is
written to a temporary file and renamed into place at the end: a bad input
or a kill leaves no partial output. With labels, the MMSA metric table of
the split is printed too. The peak resident memory is reported last.

Fast path: the model is loaded without its optimizer state (`compile=False`)
and predicted through Keras's predict function with `jit_compile` chosen by
`--compile` (`auto`: `resolve_jit_compile`). Under a compiled function every
batch has the same shape (the last one is padded, its padding dropped), so
nothing is traced twice. Under torch or JAX, `python -m msakeras.predict`
and `msakeras predict` keep TensorFlow out of the process
(`msakeras.backend.tensorflow_guard`; about 0.6 GB resident): only a
SavedModel folder lets it in.
"""

import argparse
import csv
import os
import resource
import sys

import keras
import numpy as np

import msakeras
from msakeras.callbacks import atomic_files
from msakeras.cli import HelpFormatter
from msakeras.data import feature_statistics
from msakeras.data import hdf5_store
from msakeras.data import schema

# Inputs only training needs: fed zeros, like the exported signature does.
TRAINING_ONLY_INPUTS = ("index",)
# Large enough that per-batch dispatch is a small share of a BERT forward
# pass, small enough that a MOSI-shaped batch (text 50, audio 375 x 5,
# vision 500 x 20) stays well under 1 GB of activations.
DEFAULT_BATCH_SIZE = 256
COMPILE_MODES = ("auto", "on", "off")


def resolve_jit_compile(mode="auto", backend=None):
    """`jit_compile` for the predict function of `mode` under `backend`.

    `on` and `off` are taken as given. `auto` picks the fastest path tested
    equal to eager (`tests/test_predict_fast_path.py`, 1e-5): JAX's jit
    (Keras's own default there); TensorFlow and torch stay eager on CPU,
    where XLA and `torch.compile` spend seconds to minutes compiling a BERT
    for a forward pass that the eager kernels run as fast
    (`benchmarks/inference_memory.py`).
    """
    if mode not in COMPILE_MODES:
        raise ValueError(
            f"--compile must be one of {', '.join(COMPILE_MODES)}, got "
            f"{mode!r}."
        )
    if mode != "auto":
        return mode == "on"
    backend = backend or keras.config.backend()
    return backend == "jax"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.predict",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", help=".keras file or SavedModel folder")
    parser.add_argument("--data", required=True, help="standard HDF5 file")
    parser.add_argument("--split", default="test", help="default: test")
    parser.add_argument("--output", required=True, help="CSV to write")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"samples per forward pass (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--compile",
        default="auto",
        choices=COMPILE_MODES,
        help="jit_compile of the predict function: on, off, or auto "
        "(the backend's fastest path tested equal to eager: JAX jit; "
        "TensorFlow and torch eager on CPU)",
    )
    parser.add_argument(
        "--verbose", type=int, default=1, choices=(0, 1), help="progress bar"
    )
    return parser.parse_args(argv)


class _KerasPredictor:
    def __init__(self, path, jit_compile=False):
        self.model = msakeras.models.load_msa_model(path, compile=False)
        self.model.jit_compile = jit_compile
        self.fixed_shape = bool(jit_compile)
        self.input_specs = {
            name: spec
            for name, spec in msakeras.models.model_input_specs(
                self.model
            ).items()
            if name not in TRAINING_ONLY_INPUTS
        }
        self.placeholders = [
            name
            for name in msakeras.models.model_input_specs(self.model)
            if name in TRAINING_ONLY_INPUTS
        ]
        self.vocabulary_size = token_vocabulary_size(self.model)

    def __call__(self, batch, full_size=None):
        feed = dict(batch)
        size = len(next(iter(batch.values())))
        if self.fixed_shape and full_size and size < full_size:
            # One shape for the compiled function: repeat the last row.
            feed = {
                name: np.concatenate(
                    [values, np.repeat(values[-1:], full_size - size, 0)]
                )
                for name, values in feed.items()
            }
        rows = len(next(iter(feed.values())))
        for name in self.placeholders:
            feed[name] = np.zeros((rows,), "int32")
        outputs = self.model.predict_on_batch(feed)
        return keras.ops.convert_to_numpy(outputs["sentiment"])[:size]


def token_vocabulary_size(model):
    """`input_dim` of the text backbone's `token_embedding`, or None."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if (
            isinstance(layer, keras.layers.Embedding)
            and layer.name == "token_embedding"
        ):
            return int(layer.input_dim)
    return None


def check_token_ids(batch, vocabulary_size, where, first_sample):
    """Token ids must be below the model's vocabulary size."""
    ids = batch.get("text_token_ids")
    if vocabulary_size is None or ids is None or ids.size == 0:
        return
    too_large = np.any(ids >= vocabulary_size, axis=1)
    if np.any(too_large):
        row = int(np.argmax(too_large))
        raise ValueError(
            f"{where}: key 'text_token_ids' with shape {ids.shape} holds "
            f"id {int(ids[row].max())} at sample {first_sample + row}, but "
            f"the model's vocabulary has {vocabulary_size} tokens (a file "
            "tokenised with another vocabulary?)."
        )


class _ServingPredictor:
    def __init__(self, path):
        from msakeras.backend import tensorflow_guard

        tensorflow_guard.allow_tensorflow()  # a SavedModel needs it
        from msakeras.export import ServingModel

        self.served = ServingModel(path)
        self.input_specs = self.served.input_specs
        self.vocabulary_size = None

    def __call__(self, batch, full_size=None):
        return self.served(batch)["sentiment"]


def load_predictor(path, jit_compile=False):
    """A callable `batch -> (batch, 1) predictions` and its input specs.

    `jit_compile` applies to `.keras` files (a SavedModel is a graph).
    """
    if os.path.isdir(path):
        return _ServingPredictor(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model '{path}' does not exist.")
    return _KerasPredictor(path, jit_compile=jit_compile)


def _cast(name, values):
    spec = schema.KEY_SPECS.get(name)
    if spec is not None and spec.kind == "features":
        return values.astype("float32", copy=False)
    return values.astype("int32", copy=False)


def predict_file(
    model_path,
    data_path,
    split,
    output_path,
    batch_size=DEFAULT_BATCH_SIZE,
    verbose=1,
    compile="auto",
):
    """Writes predictions for one split; returns `(num_samples, scores)`.

    `compile` is `auto`, `on` or `off` (`resolve_jit_compile`).

    `scores` is the MMSA metric dict when the split has labels, else None.
    Raises `ValueError` (naming file, split, key, shape) before writing
    anything when the file does not fit the model.
    """
    if batch_size < 1:
        raise ValueError(f"--batch-size must be positive, got {batch_size}.")
    jit_compile = resolve_jit_compile(compile)
    check_output_path(output_path, [model_path, data_path])
    predictor = load_predictor(model_path, jit_compile=jit_compile)
    where = f"File '{data_path}', split '{split}'"
    with hdf5_store.open_dataset(data_path) as file:
        dataset = hdf5_store._to_python(file.attrs.get("dataset", "unknown"))
        group = hdf5_store.get_split(file, split, data_path)
        arrays = {key: group[key] for key in group.keys()}
        has_labels = "label" in arrays
        # Streamed (1024 rows at a time): masks (0/1, right-padded), row
        # counts, NaN, label range when labelled, ...
        schema.validate_split(
            arrays, split, data_path, dataset=dataset, labelled=has_labels
        )
        feature_statistics.warn_far_outside(
            arrays,
            {k: hdf5_store._to_python(v) for k, v in file.attrs.items()},
            split,
            data_path,
        )
        schema.check_release_widths(
            {key: arrays[key].shape for key in arrays},
            dataset,
            f"{data_path}', split '{split}",
            source_release=hdf5_store._to_python(
                file.attrs.get("source_release", "")
            ),
        )
        shapes_only = {
            name: _ShapeOnly(array.shape) for name, array in arrays.items()
        }
        specs = {
            name: (shape, "int32")  # shapes here; values checked per batch
            for name, (shape, _) in predictor.input_specs.items()
        }
        msakeras.models.check_model_inputs(specs, shapes_only, where)
        metric_dataset = schema.base_dataset_name(dataset)
        if has_labels and metric_dataset not in ("mosi", "mosei", "sims"):
            raise ValueError(
                f"File '{data_path}': attribute dataset={dataset!r} is not "
                "'mosi', 'mosei' or 'sims' (optionally 'synthetic_'-"
                "prefixed); the metrics of a labelled split need it."
            )
        num_samples = int(next(iter(arrays.values())).shape[0])
        if num_samples == 0:
            raise ValueError(f"{where}: the split is empty; nothing to do.")
        batch_size = min(batch_size, num_samples)  # no padding beyond it
        ids = arrays.get("id")
        labels = np.empty((num_samples,), "float32") if has_labels else None
        predictions = np.empty((num_samples,), "float32")
        progress = keras.utils.Progbar(num_samples, verbose=verbose)
        with atomic_files.atomic_output_path(output_path) as temporary:
            with open(temporary, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    ["id", "index", "prediction"]
                    + (["label"] if has_labels else [])
                )
                for start in range(0, num_samples, batch_size):
                    stop = min(start + batch_size, num_samples)
                    batch = {
                        name: _cast(name, arrays[name][start:stop])
                        for name in predictor.input_specs
                    }
                    msakeras.models.check_model_inputs(
                        predictor.input_specs, batch, where, first_sample=start
                    )
                    check_token_ids(
                        batch, predictor.vocabulary_size, where, start
                    )
                    values = np.asarray(predictor(batch, batch_size))
                    values = values.reshape(-1)
                    predictions[start:stop] = values
                    batch_ids = (
                        ids.asstr()[start:stop]
                        if ids is not None
                        else np.arange(start, stop).astype(str)
                    )
                    rows = [batch_ids, np.arange(start, stop), values]
                    if has_labels:
                        labels[start:stop] = arrays["label"][start:stop]
                        rows.append(labels[start:stop])
                    writer.writerows(zip(*rows))
                    progress.update(stop)
    scores = None
    if has_labels:
        scores = msakeras.metrics.sentiment_scores(
            predictions, labels, metric_dataset
        )
    return num_samples, scores


def check_output_path(output_path, input_paths):
    """Refuses an output that is a folder or one of the inputs."""
    if os.path.isdir(output_path):
        raise ValueError(
            f"--output '{output_path}' is a folder; give a CSV file name."
        )
    resolved = os.path.realpath(output_path)
    for path in input_paths:
        same = os.path.realpath(path) == resolved
        if not same and os.path.exists(output_path) and os.path.exists(path):
            same = os.path.samefile(output_path, path)
        if same:
            raise ValueError(
                f"--output '{output_path}' is the input '{path}'; writing "
                "would overwrite it. Choose another output file."
            )


class _ShapeOnly:
    def __init__(self, shape):
        self.shape = tuple(shape)


def peak_rss_mib():
    """Peak resident set size of this process so far, in MiB.

    Linux: `VmHWM` of `/proc/self/status`, which starts afresh at `exec`
    (`ru_maxrss` keeps the parent's peak across fork + exec). Elsewhere
    `ru_maxrss` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024.0)


def main(argv=None):
    args = parse_args(argv)
    try:
        with atomic_files.disk_faults_exit("msakeras.predict"):
            num_samples, scores = predict_file(
                args.model,
                args.data,
                args.split,
                args.output,
                batch_size=args.batch_size,
                verbose=args.verbose,
                compile=args.compile,
            )
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"msakeras.predict: {error}") from None
    print(f"wrote {num_samples} predictions to {args.output}")
    if scores is not None:
        print(f"\nMMSA metrics on split '{args.split}' of {args.data}:")
        for name, value in scores.items():
            print(f"  {name:14s} {value:.4f}")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")
    return scores


if __name__ == "__main__":
    main(sys.argv[1:])

"""`python -m msakeras.predict`: predictions for a split of an HDF5 file.

    python -m msakeras.predict MODEL --data PATH.h5 [--split test] \
        --output preds.csv [--batch-size 256]

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
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--verbose", type=int, default=1, choices=(0, 1), help="progress bar"
    )
    return parser.parse_args(argv)


class _KerasPredictor:
    def __init__(self, path):
        self.model = msakeras.models.load_msa_model(path)
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

    def __call__(self, batch):
        feed = dict(batch)
        size = len(next(iter(batch.values())))
        for name in self.placeholders:
            feed[name] = np.zeros((size,), "int32")
        outputs = self.model.predict_on_batch(feed)
        return keras.ops.convert_to_numpy(outputs["sentiment"])


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
        from msakeras.export import ServingModel

        self.served = ServingModel(path)
        self.input_specs = self.served.input_specs
        self.vocabulary_size = None

    def __call__(self, batch):
        return self.served(batch)["sentiment"]


def load_predictor(path):
    """A callable `batch -> (batch, 1) predictions` and its input specs."""
    if os.path.isdir(path):
        return _ServingPredictor(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model '{path}' does not exist.")
    return _KerasPredictor(path)


def _cast(name, values):
    spec = schema.KEY_SPECS.get(name)
    if spec is not None and spec.kind == "features":
        return values.astype("float32", copy=False)
    return values.astype("int32", copy=False)


def predict_file(
    model_path, data_path, split, output_path, batch_size=256, verbose=1
):
    """Writes predictions for one split; returns `(num_samples, scores)`.

    `scores` is the MMSA metric dict when the split has labels, else None.
    Raises `ValueError` (naming file, split, key, shape) before writing
    anything when the file does not fit the model.
    """
    if batch_size < 1:
        raise ValueError(f"--batch-size must be positive, got {batch_size}.")
    check_output_path(output_path, [model_path, data_path])
    predictor = load_predictor(model_path)
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
                    values = np.asarray(predictor(batch)).reshape(-1)
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

"""SavedModel export in TF Serving layout, from a model of any backend.

Keras 3.15 cannot export a dict-input model from the torch backend, and a
JAX export embeds StableHLO calls, so the export always runs under
TensorFlow (docs/architecture.md): under another backend,
`export_saved_model` saves the model to a temporary `.keras` (when given a
model object), computes reference predictions on a probe batch, and reruns
itself as `python -m msakeras.export` with `KERAS_BACKEND=tensorflow`.

Under TensorFlow it reloads the `.keras`, writes the archive with
`keras.export.ExportArchive` into a temporary folder beside the versions,
verifies it (reload with `tf.saved_model.load`, call `serving_default` on
the probe batch, compare with `predict`), writes `export.json` and only then
renames the folder to its integer version, so a failure leaves nothing a
server could pick up.

TensorFlow is imported inside the functions that need it, so importing this
module under torch or JAX stays cheap.
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile

import keras
import numpy as np

from msakeras.export import process_safety

# Inputs that only training needs (per-sample state such as Self-MM's
# `index`): left out of the signature, fed a zero placeholder.
TRAINING_ONLY_INPUTS = ("index",)
DEFAULT_SERVE_OUTPUTS = ("sentiment",)
MAX_DIFFERENCE = 1e-4
PROBE_BATCH_SIZE = 3
PROBE_SEQUENCE_LENGTH = 6
PROBE_SEED = 1234
_VERSION_PATTERN = re.compile(r"^[0-9]+$")


class ExportError(RuntimeError):
    """Raised when an export cannot be written or fails its check."""


# --- versions --------------------------------------------------------------
def existing_versions(output_dir):
    """Sorted integer version folders under `output_dir` (TF Serving's)."""
    if not os.path.isdir(output_dir):
        return []
    return sorted(
        int(name)
        for name in os.listdir(output_dir)
        if _VERSION_PATTERN.match(name)
        and os.path.isdir(os.path.join(output_dir, name))
    )


def next_version(output_dir):
    """The next free integer version: one above the highest, 1 if none."""
    versions = existing_versions(output_dir)
    return versions[-1] + 1 if versions else 1


def _resolve_version(output_dir, version):
    if version is None:
        return next_version(output_dir)
    if isinstance(version, bool) or int(version) != version or version < 0:
        raise ValueError(f"version must be a non-negative integer: {version}")
    version = int(version)
    target = os.path.join(output_dir, str(version))
    if os.path.exists(target):
        raise FileExistsError(
            f"{target} already exists: SavedModel versions are never "
            f"overwritten. Omit `version` to write version "
            f"{next_version(output_dir)}, or remove the folder yourself."
        )
    return version


# --- input specs and the probe batch ---------------------------------------
def serving_input_specs(model):
    """`[(name, shape, dtype)]` of the inputs a client sends.

    Shapes have `None` for the batch axis (and any other free axis);
    training-only inputs are dropped.
    """
    specs = []
    for tensor in model.inputs:
        name = _input_name(tensor)
        if name in TRAINING_ONLY_INPUTS:
            continue
        specs.append((name, (None,) + tuple(tensor.shape[1:]), tensor.dtype))
    return specs


def _input_name(tensor):
    name = tensor.name
    # Keras names symbolic inputs after their `keras.Input(name=...)`.
    return name.split(":")[0]


def _token_id_limit(model):
    """An exclusive upper bound on ids that every embedding accepts."""
    limit = 100
    for layer in model._flatten_layers(include_self=False, recursive=True):
        input_dim = getattr(layer, "input_dim", None)
        if isinstance(layer, keras.layers.Embedding) and input_dim:
            limit = min(limit, int(input_dim))
    return max(limit, 2)


def probe_batch(
    model, batch_size=PROBE_BATCH_SIZE, sequence_length=PROBE_SEQUENCE_LENGTH
):
    """A deterministic synthetic batch built from the model's input specs.

    Free axes get `sequence_length`; masks (`*mask*`) are valid
    prefixes of varying length (at least one step), lengths (`*len*`) lie
    in `[1, T]`, other integer inputs are token ids below every embedding's
    vocabulary, floats are standard normal. Training-only inputs are
    included (zeros) so the batch also feeds `predict`.
    """
    rng = np.random.RandomState(PROBE_SEED)
    token_limit = _token_id_limit(model)
    batch = {}
    for tensor in model.inputs:
        name = _input_name(tensor)
        shape = [batch_size] + [
            sequence_length if size is None else int(size)
            for size in tensor.shape[1:]
        ]
        dtype = np.dtype(keras.backend.standardize_dtype(tensor.dtype))
        if name in TRAINING_ONLY_INPUTS:
            batch[name] = np.zeros(shape, dtype)
        elif "mask" in name and len(shape) >= 2:
            steps = shape[1]
            lengths = 1 + (np.arange(batch_size) * 2 + 1) % steps
            mask = np.arange(steps)[None] < lengths[:, None]
            mask = mask.reshape([batch_size, steps] + [1] * (len(shape) - 2))
            batch[name] = np.broadcast_to(mask, shape).astype(dtype)
        elif dtype.kind == "b":
            batch[name] = np.ones(shape, dtype)
        elif dtype.kind in "iu" and "len" in name:
            batch[name] = rng.randint(1, sequence_length + 1, shape)
            batch[name] = batch[name].astype(dtype)
        elif dtype.kind in "iu":
            batch[name] = rng.randint(1, token_limit, shape).astype(dtype)
        else:
            batch[name] = rng.normal(size=shape).astype(dtype)
    return batch


def _predict_outputs(model, batch, names):
    outputs = model.predict(
        batch, batch_size=len(next(iter(batch.values()))), verbose=0
    )
    outputs = _as_output_dict(outputs)
    names = _select_outputs(outputs, names)
    return {name: np.asarray(outputs[name]) for name in names}


def _as_output_dict(outputs):
    if isinstance(outputs, dict):
        return outputs
    if isinstance(outputs, (list, tuple)):
        if len(outputs) == 1:
            return {"sentiment": outputs[0]}
        return {f"output_{i}": value for i, value in enumerate(outputs)}
    return {"sentiment": outputs}


def _select_outputs(outputs, names):
    if names is None:
        return sorted(outputs)
    names = [names] if isinstance(names, str) else list(names)
    missing = [name for name in names if name not in outputs]
    if missing:
        raise ExportError(
            f"outputs {missing} are not among the model's outputs "
            f"{sorted(outputs)}."
        )
    return names


# --- provenance -------------------------------------------------------------
def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_backend_of(keras_path):
    """The backend recorded in a recipe's `run.json` beside the file."""
    record = os.path.join(
        os.path.dirname(os.path.abspath(keras_path)), "run.json"
    )
    try:
        with open(record, encoding="utf-8") as handle:
            return json.load(handle).get("backend") or "unknown"
    except (OSError, ValueError):
        return "unknown"


def _package_versions():
    found = {}
    for name in ("keras", "tensorflow", "keras-hub", "msakeras", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


# --- public entry point -----------------------------------------------------
def export_saved_model(
    model_or_path,
    output_dir,
    version=None,
    serve_outputs=DEFAULT_SERVE_OUTPUTS,
    training_backend=None,
    max_difference=MAX_DIFFERENCE,
):
    """Exports a model as `output_dir/<version>/` for TF Serving.

    Args:
        model_or_path: a Keras model or the path of a `.keras` file.
        output_dir: the model's base folder (TF Serving's
            `--model_base_path`), e.g. `saved_models/mmim_mosi`.
        version: integer version; default the next free one. An existing
            version is never overwritten (`FileExistsError`).
        serve_outputs: names of the model outputs the signature returns
            (default `("sentiment",)`); `None` for every output.
        training_backend: recorded in `export.json`; default the current
            backend for a model object, else the `backend` of a `run.json`
            beside the file, else `"unknown"`.
        max_difference: fail when `serving_default` and `predict` differ
            by more than this (max absolute difference on the probe batch).

    Returns:
        The `export.json` record (a dict), with `"path"` the version folder.
    """
    output_dir = os.path.abspath(os.fspath(output_dir))
    version = _resolve_version(output_dir, version)
    if isinstance(serve_outputs, str):
        serve_outputs = (serve_outputs,)
    with tempfile.TemporaryDirectory(prefix="msakeras-export-") as scratch:
        model, keras_path, training_backend = keras_file_of(
            model_or_path, training_backend, scratch
        )
        if keras.config.backend() == "tensorflow":
            import msakeras  # noqa: F401  (registers the classes)

            probe = reference = source_label = None
            if model is not None:
                # Export what the `.keras` holds; also check the original.
                probe = probe_batch(model)
                reference = _predict_outputs(model, probe, serve_outputs)
                source_label = f"<in-memory model {model.name!r}>"
            return _export_with_tensorflow(
                keras.models.load_model(keras_path, compile=False),
                keras_path,
                output_dir,
                version,
                serve_outputs,
                training_backend,
                max_difference,
                reference=reference,
                probe=probe,
                reference_backend="tensorflow (in memory)",
                source_label=source_label,
            )
        return _export_in_subprocess(
            model,
            keras_path,
            output_dir,
            version,
            serve_outputs,
            training_backend,
            max_difference,
            scratch,
        )


def keras_file_of(model_or_path, training_backend, scratch):
    """The `.keras` file an export reads: `(model, keras_path, backend)`.

    A path is checked to exist (`model` is then None); an in-memory model
    is saved into `scratch` without its optimizer. `training_backend`
    defaults to the file's recorded backend, or the running one for an
    in-memory model.
    """
    if isinstance(model_or_path, (str, os.PathLike)):
        keras_path = os.path.abspath(os.fspath(model_or_path))
        if not os.path.isfile(keras_path):
            raise FileNotFoundError(f"no such model file: {keras_path}")
        if training_backend is None:
            training_backend = training_backend_of(keras_path)
        return None, keras_path, training_backend
    keras_path = os.path.join(scratch, "model.keras")
    model_or_path.save(keras_path, include_optimizer=False)
    if training_backend is None:
        training_backend = keras.config.backend()
    return model_or_path, keras_path, training_backend


# --- other backends: rerun under TensorFlow ----------------------------------
def _export_in_subprocess(
    model,
    keras_path,
    output_dir,
    version,
    serve_outputs,
    training_backend,
    max_difference,
    scratch,
):
    from_path = model is None
    if model is None:
        import msakeras  # noqa: F401  (registers the classes)

        model = keras.models.load_model(keras_path, compile=False)
    batch = probe_batch(model)
    reference = _predict_outputs(model, batch, serve_outputs)
    probe_path = os.path.join(scratch, "probe.npz")
    np.savez(
        probe_path,
        **{f"input/{name}": value for name, value in batch.items()},
        **{f"output/{name}": value for name, value in reference.items()},
    )
    report_path = os.path.join(scratch, "report.json")
    options = [
        "--output",
        output_dir,
        "--version",
        str(version),
        "--training-backend",
        training_backend,
        "--max-difference",
        repr(float(max_difference)),
        "--probe",
        probe_path,
        "--reference-backend",
        keras.config.backend(),
        "--report",
        report_path,
    ]
    source_label = None
    if not from_path:
        source_label = f"<in-memory model {model.name!r}>"
    completed = process_safety.run_export_command(
        keras_path, options, serve_outputs, source_label, "tensorflow"
    )
    if completed.returncode != 0 or not os.path.isfile(report_path):
        raise ExportError(
            "the TensorFlow export subprocess failed (exit "
            f"{completed.returncode}):\n{_error_tail(completed.stderr)}"
        )
    with open(report_path, encoding="utf-8") as handle:
        record = json.load(handle)
    return record


def _error_tail(text, lines=40):
    kept = [
        line
        for line in text.splitlines()
        if not line.startswith(("I0000", "W0000", "WARNING: All log"))
    ]
    return "\n".join(kept[-lines:])


# --- TensorFlow: write, verify, publish --------------------------------------
def _export_with_tensorflow(
    model,
    keras_path,
    output_dir,
    version,
    serve_outputs,
    training_backend,
    max_difference,
    reference=None,
    probe=None,
    reference_backend=None,
    source_label=None,
):
    import tensorflow as tf

    if keras.config.backend() != "tensorflow":
        raise ExportError("_export_with_tensorflow needs the TF backend")
    specs = serving_input_specs(model)
    all_inputs = [_input_name(tensor) for tensor in model.inputs]
    batch = probe if probe is not None else probe_batch(model)
    predicted = _predict_outputs(model, batch, serve_outputs)
    output_names = list(predicted)
    placeholders = {
        _input_name(tensor): (tuple(tensor.shape[1:]), tensor.dtype)
        for tensor in model.inputs
        if _input_name(tensor) in TRAINING_ONLY_INPUTS
    }

    def serve(inputs):
        feed = dict(inputs)
        batch_size = tf.shape(next(iter(inputs.values())))[0]
        for name, (shape, dtype) in placeholders.items():
            size = [batch_size] + [1 if s is None else s for s in shape]
            feed[name] = tf.zeros(tf.stack(size), dtype=dtype)
        outputs = _as_output_dict(
            model({name: feed[name] for name in all_inputs}, training=False)
        )
        return {name: outputs[name] for name in output_names}

    input_signature = [
        {
            name: tf.TensorSpec(shape, dtype=dtype, name=name)
            for name, shape, dtype in specs
        }
    ]
    staging = process_safety.make_staging(output_dir, version)
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            name="serving_default", fn=serve, input_signature=input_signature
        )
        archive.add_endpoint(
            name="serve", fn=serve, input_signature=input_signature
        )
        archive.write_out(staging, verbose=False)

        loaded = tf.saved_model.load(staging)
        signature = loaded.signatures["serving_default"]
        served = signature(
            **{
                name: tf.constant(batch[name], dtype=dtype)
                for name, _, dtype in specs
            }
        )
        served = {name: value.numpy() for name, value in served.items()}
        if sorted(served) != sorted(output_names):
            raise ExportError(
                f"serving_default returns {sorted(served)}, "
                f"expected {sorted(output_names)}"
            )
        difference_tf = _max_difference(served, predicted)
        checks = {"tensorflow": difference_tf}
        if reference is not None:
            checks[reference_backend or "source"] = _max_difference(
                served, reference
            )
        worst = max(checks.values())
        if not worst <= max_difference:
            raise ExportError(
                f"serving_default differs from predict by {worst:.3g} "
                f"(limit {max_difference:g}): {checks}"
            )
        record = _export_record(
            keras_path,
            output_dir,
            version,
            training_backend,
            signature,
            specs,
            served,
            checks,
            worst,
            max_difference,
            len(next(iter(batch.values()))),
            sorted(placeholders),
            source_label,
        )
        target = publish_version(staging, output_dir, version, record)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    record["path"] = target
    return record


def publish_version(staging, output_dir, version, record):
    """Writes `export.json` into `staging`, renames it to `<version>/`.

    The checked export becomes visible in one rename; a version that
    appeared meanwhile is never overwritten. Returns the version folder.
    """
    with open(
        os.path.join(staging, "export.json"), "w", encoding="utf-8"
    ) as handle:
        json.dump(record, handle, indent=2)
    target = os.path.join(output_dir, str(version))
    if os.path.exists(target):
        raise FileExistsError(
            f"{target} appeared during the export; not overwritten."
        )
    os.rename(staging, target)
    os.chmod(target, 0o755)
    return target


def _max_difference(served, expected):
    worst = 0.0
    for name, value in expected.items():
        value = np.asarray(value, dtype="float64")
        got = np.asarray(served[name], dtype="float64").reshape(value.shape)
        worst = max(worst, float(np.max(np.abs(got - value), initial=0.0)))
    return worst


def _spec_records(specs):
    """`{name: {"dtype", "shape"}}` of a signature's named `TensorSpec`s."""
    return {
        name: {
            "dtype": spec.dtype.name,
            "shape": [None if s is None else int(s) for s in spec.shape],
        }
        for name, spec in specs.items()
    }


def _export_record(
    keras_path,
    output_dir,
    version,
    training_backend,
    signature,
    specs,
    served,
    checks,
    worst,
    max_difference,
    probe_size,
    fed_zeros,
    source_label,
):
    inputs = _spec_records(signature.structured_input_signature[1])
    outputs = _spec_records(signature.structured_outputs)
    return {
        "format": "tf_saved_model",
        "version": version,
        "model_base_path": output_dir,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "source": {
            "path": source_label or keras_path,
            "sha256": file_sha256(keras_path),
        },
        "training_backend": training_backend,
        "export_backend": keras.config.backend(),
        "versions": _package_versions(),
        "signatures": ["serving_default", "serve"],
        "inputs": inputs,
        "training_only_inputs_fed_zeros": fed_zeros,
        "outputs": outputs,
        "check": {
            "probe_batch_size": probe_size,
            "probe_sequence_length": PROBE_SEQUENCE_LENGTH,
            "max_abs_difference": worst,
            "max_abs_difference_by_predict_backend": checks,
            "limit": max_difference,
        },
    }

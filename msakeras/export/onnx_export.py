"""ONNX export through `torch.export`, verified with onnxruntime.

Keras 3.15's `model.export(path, format="onnx")` under the torch backend
traces with the TorchScript exporter whenever an axis is dynamic, and that
tracer fails inside Keras's own `layer_normalization` (its
`normalized_shape` becomes a traced value), so every msakeras model (BERT,
DashFusion's transformers) fails there; with fully static shapes Keras uses
the dynamo exporter, which works but fixes the batch size and names the
outputs after internal nodes (`add_27`). `export_onnx` therefore calls
`torch.onnx.export(..., dynamo=True)` itself on a small wrapper module: the
named model inputs in, the requested outputs (default `sentiment`) out, a
dynamic batch axis and dynamic sequence axes (`torch.export.Dim`).

Like `export_saved_model` it saves the model to a temporary `.keras` (when
given an object), computes this backend's `predict` on the probe batches and
reruns itself as `python -m msakeras.export --format onnx` with
`KERAS_BACKEND=torch`; it does so under torch too, because a second
`torch.export` of a model in one process specialised a sequence axis to the
first probe's length (seen with MMIM: onnxruntime then fails to broadcast
4 by 6), while a fresh process converts correctly.

The export is checked before it is published: the file is loaded with
onnxruntime and run on two probe batches (3 samples of 6 steps, 1 sample of
4 steps), and its outputs are compared with `predict`; above
`max_difference` the export fails and nothing is left behind. Layout:
`output_dir/<version>/model.onnx` plus `export.json`.
"""

import datetime
import importlib.metadata
import json
import os
import re
import shutil
import tempfile

import keras
import numpy as np

from msakeras.export import process_safety
from msakeras.export import saved_model

ONNX_FILE = "model.onnx"
# Probe batches the exported graph is run on: (batch size, sequence length).
# Neither may be 1 in the first one: torch.export specialises size-1 axes.
ONNX_PROBES = (
    (saved_model.PROBE_BATCH_SIZE, saved_model.PROBE_SEQUENCE_LENGTH),
    (1, 4),
)


class OnnxExportError(saved_model.ExportError):
    """The model cannot be converted; `ops` / `layers` name the culprits."""

    def __init__(self, message, ops=(), layers=()):
        super().__init__(message)
        self.ops = tuple(ops)
        self.layers = tuple(layers)


def export_onnx(
    model_or_path,
    output_dir,
    version=None,
    serve_outputs=saved_model.DEFAULT_SERVE_OUTPUTS,
    training_backend=None,
    max_difference=saved_model.MAX_DIFFERENCE,
    opset_version=None,
):
    """Exports a model as `output_dir/<version>/model.onnx`.

    Args:
        model_or_path: a Keras model or the path of a `.keras` file.
        output_dir: the folder holding the integer versions, e.g.
            `saved_models/mmim_mosi/onnx` (TF Serving skips it).
        version: integer version; default the next free one. An existing
            version is never overwritten (`FileExistsError`).
        serve_outputs: model outputs the graph returns (default
            `("sentiment",)`); `None` for every output.
        training_backend: recorded in `export.json` (as for
            `export_saved_model`).
        max_difference: fail when onnxruntime and `predict` differ by more
            (max absolute difference over the probe batches).
        opset_version: ONNX opset; default torch's.

    Returns:
        The `export.json` record, with `"path"` the version folder.

    Raises:
        OnnxExportError: the converter cannot handle the model; the message
            (and `.ops` / `.layers`) names the failing op and Keras layer.
        ExportError: the exported graph disagrees with `predict`.
    """
    output_dir = os.path.abspath(os.fspath(output_dir))
    version = saved_model._resolve_version(output_dir, version)
    if isinstance(serve_outputs, str):
        serve_outputs = (serve_outputs,)
    with tempfile.TemporaryDirectory(prefix="msakeras-onnx-") as scratch:
        model, keras_path, training_backend = saved_model.keras_file_of(
            model_or_path, training_backend, scratch
        )
        import msakeras  # noqa: F401  (registers the classes)

        source = model
        if source is None:
            source = keras.models.load_model(keras_path, compile=False)
        probes = probe_batches(source)
        reference = [
            saved_model._predict_outputs(source, batch, serve_outputs)
            for batch in probes
        ]
        source_label = None
        if model is not None:
            source_label = f"<in-memory model {model.name!r}>"
        return _export_in_subprocess(
            keras_path,
            output_dir,
            version,
            serve_outputs,
            training_backend,
            max_difference,
            opset_version,
            probes,
            reference,
            source_label,
            scratch,
        )


def probe_batches(model):
    """The probe batches of `ONNX_PROBES` (deterministic, valid masks)."""
    return [
        saved_model.probe_batch(model, batch_size=size, sequence_length=steps)
        for size, steps in ONNX_PROBES
    ]


# --- other backends: rerun under torch ---------------------------------------
def _export_in_subprocess(
    keras_path,
    output_dir,
    version,
    serve_outputs,
    training_backend,
    max_difference,
    opset_version,
    probes,
    reference,
    source_label,
    scratch,
):
    probe_path = os.path.join(scratch, "probe.npz")
    arrays = {}
    for index, (batch, expected) in enumerate(zip(probes, reference)):
        arrays.update({f"{index}/input/{k}": v for k, v in batch.items()})
        arrays.update({f"{index}/output/{k}": v for k, v in expected.items()})
    np.savez(probe_path, **arrays)
    report_path = os.path.join(scratch, "report.json")
    reference_label = keras.config.backend()
    if reference_label == "torch":  # the converting process is torch too
        reference_label = "torch (calling process)"
    options = [
        "--format", "onnx",
        "--output", output_dir,
        "--version", str(version),
        "--training-backend", training_backend,
        "--max-difference", repr(float(max_difference)),
        "--probe", probe_path,
        "--reference-backend", reference_label,
        "--report", report_path,
    ]  # fmt: skip
    if opset_version is not None:
        options += ["--opset", str(int(opset_version))]
    completed = process_safety.run_export_command(
        keras_path, options, serve_outputs, source_label, "torch"
    )
    if completed.returncode != 0 or not os.path.isfile(report_path):
        tail = saved_model._error_tail(completed.stderr)
        message = (
            "the torch ONNX export subprocess failed (exit "
            f"{completed.returncode}):\n{tail}"
        )
        if "cannot be converted to ONNX" in tail:
            raise OnnxExportError(
                message, ops=_failing_ops(tail), layers=_failing_layers(tail)
            )
        raise saved_model.ExportError(message)
    with open(report_path, encoding="utf-8") as handle:
        return json.load(handle)


def read_probe_file(path):
    """Probe batches and reference outputs written by `export_onnx`."""
    with np.load(path) as data:
        count = 1 + max(int(key.split("/")[0]) for key in data.files)
        probes = [{} for _ in range(count)]
        reference = [{} for _ in range(count)]
        for key in data.files:
            index, kind, name = key.split("/", 2)
            target = probes if kind == "input" else reference
            target[int(index)][name] = data[key]
    return probes, reference


# --- torch: convert, verify, publish -----------------------------------------
def _failing_ops(text):
    """ATen ops named in a converter message (`aten._linalg_eigh`, ...)."""
    found = re.findall(r"aten(?:\.|::)([A-Za-z0-9_]+)", text)
    return sorted({f"aten.{name}" for name in found})


def _failing_layers(text):
    """Keras layers named in `Exception encountered when calling X.call()`."""
    found = re.findall(r"when calling ([A-Za-z0-9_]+)\.call\(\)", text)
    return list(dict.fromkeys(found))


def _exception_summary(error):
    text = str(error)
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1]
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    return " ".join(lines[:3])[:600]


def export_with_torch(
    model,
    keras_path,
    output_dir,
    version,
    serve_outputs,
    training_backend,
    max_difference,
    opset_version=None,
    reference=None,
    probes=None,
    reference_backend=None,
    source_label=None,
):
    """Converts `model` (torch backend) and publishes a verified version."""
    import torch

    if keras.config.backend() != "torch":
        raise saved_model.ExportError("export_with_torch needs torch")
    specs = saved_model.serving_input_specs(model)
    input_names = [name for name, _, _ in specs]
    all_inputs = [saved_model._input_name(t) for t in model.inputs]
    placeholders = {
        saved_model._input_name(t): (tuple(t.shape[1:]), t.dtype)
        for t in model.inputs
        if saved_model._input_name(t) in saved_model.TRAINING_ONLY_INPUTS
    }
    probes = probes if probes is not None else probe_batches(model)
    predicted = [
        saved_model._predict_outputs(model, batch, serve_outputs)
        for batch in probes
    ]
    output_names = list(predicted[0])

    class Serve(torch.nn.Module):
        """Named inputs in (flat), the selected outputs out."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *flat):
            feed = dict(zip(input_names, flat))
            batch_size = flat[0].shape[0]
            for name, (shape, dtype) in placeholders.items():
                size = [batch_size] + [1 if s is None else s for s in shape]
                feed[name] = torch.zeros(size, dtype=getattr(torch, dtype))
            outputs = saved_model._as_output_dict(
                self.model(
                    {name: feed[name] for name in all_inputs}, training=False
                )
            )
            return tuple(outputs[name] for name in output_names)

    batch_axis = torch.export.Dim("batch", min=1, max=1 << 20)
    dynamic_shapes = []
    for _, shape, _ in specs:
        axes = {0: batch_axis}
        for axis, size in enumerate(shape[1:], start=1):
            if size is None:
                axes[axis] = torch.export.Dim.AUTO
        dynamic_shapes.append(axes)
    sample = tuple(torch.as_tensor(probes[0][name]) for name in input_names)
    label = source_label or keras_path
    os.makedirs(output_dir, exist_ok=True)
    staging = process_safety.make_staging(output_dir, version)
    try:
        onnx_path = os.path.join(staging, ONNX_FILE)
        try:
            program = torch.onnx.export(
                Serve().eval(),
                sample,
                dynamo=True,
                input_names=input_names,
                output_names=output_names,
                dynamic_shapes=(tuple(dynamic_shapes),),
                opset_version=opset_version,
                verbose=False,
            )
            program.optimize()
            program.save(onnx_path)
        except Exception as error:
            text = f"{error}\n{error.__cause__ or ''}"
            ops, layers = _failing_ops(text), _failing_layers(text)
            raise OnnxExportError(
                f"{type(model).__name__} ({label}) cannot be converted to "
                f"ONNX: failing op {', '.join(ops) or 'unknown'}; in Keras "
                f"layer {' > '.join(layers) or 'unknown'}. "
                f"{type(error).__name__}: {_exception_summary(error)}",
                ops=ops,
                layers=layers,
            ) from error
        served, session_inputs, session_outputs = _run_onnxruntime(
            onnx_path, probes, input_names
        )
        checks = {
            "torch": _worst(served, predicted, output_names),
        }
        if reference is not None:
            checks[reference_backend or "source"] = _worst(
                served, reference, output_names
            )
        worst = max(checks.values())
        if not worst <= max_difference:
            raise saved_model.ExportError(
                f"onnxruntime differs from predict by {worst:.3g} "
                f"(limit {max_difference:g}): {checks}"
            )
        record = _export_record(
            onnx_path,
            keras_path,
            label,
            output_dir,
            version,
            training_backend,
            session_inputs,
            session_outputs,
            sorted(placeholders),
            checks,
            worst,
            max_difference,
        )
        target = saved_model.publish_version(
            staging, output_dir, version, record
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    record["path"] = target
    return record


def _run_onnxruntime(onnx_path, probes, input_names):
    import onnxruntime

    session = onnxruntime.InferenceSession(
        onnx_path, providers=["CPUExecutionProvider"]
    )
    names = [node.name for node in session.get_outputs()]
    served = []
    for batch in probes:
        values = session.run(None, {name: batch[name] for name in input_names})
        served.append(dict(zip(names, values)))

    def describe(nodes):
        return {
            node.name: {
                "dtype": node.type,
                "shape": [
                    s if isinstance(s, int) else None for s in node.shape
                ],
            }
            for node in nodes
        }

    return (
        served,
        describe(session.get_inputs()),
        describe(session.get_outputs()),
    )


def _worst(served, expected, output_names):
    worst = 0.0
    for got, want in zip(served, expected):
        missing = [name for name in output_names if name not in got]
        if missing:
            raise saved_model.ExportError(
                f"the ONNX graph lacks outputs {missing}; it has {sorted(got)}"
            )
        worst = max(worst, saved_model._max_difference(got, want))
    return worst


def _versions():
    found = {}
    for name in ("keras", "torch", "onnx", "onnxruntime", "onnxscript",
                 "keras-hub", "msakeras", "numpy"):  # fmt: skip
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _opset(onnx_path):
    import onnx

    proto = onnx.load(onnx_path, load_external_data=False)
    return {
        entry.domain or "ai.onnx": int(entry.version)
        for entry in proto.opset_import
    }


def _export_record(
    onnx_path,
    keras_path,
    label,
    output_dir,
    version,
    training_backend,
    inputs,
    outputs,
    fed_zeros,
    checks,
    worst,
    max_difference,
):
    return {
        "format": "onnx",
        "file": ONNX_FILE,
        "sha256": saved_model.file_sha256(onnx_path),
        "opset": _opset(onnx_path),
        "version": version,
        "base_path": output_dir,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "source": {
            "path": label,
            "sha256": saved_model.file_sha256(keras_path),
        },
        "training_backend": training_backend,
        "export_backend": "torch",
        "exporter": "torch.onnx.export(dynamo=True)",
        "versions": _versions(),
        "inputs": inputs,
        "training_only_inputs_fed_zeros": fed_zeros,
        "outputs": outputs,
        "check": {
            "runtime": "onnxruntime (CPUExecutionProvider)",
            "probe_batches": [
                {"batch_size": size, "sequence_length": steps}
                for size, steps in ONNX_PROBES
            ],
            "max_abs_difference": worst,
            "max_abs_difference_by_predict_backend": checks,
            "limit": max_difference,
        },
    }

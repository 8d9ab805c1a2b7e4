"""`python -m msakeras.export MODEL.keras --output DIR [--version N]`.

Writes `DIR/<version>/` (SavedModel + `export.json`) in TF Serving layout,
verified against `predict`; see `msakeras.export.export_saved_model`. Under
a backend other than TensorFlow it reruns itself with
`KERAS_BACKEND=tensorflow`. `--format onnx` writes `DIR/<version>/model.onnx`
(see `msakeras.export.export_onnx`), converted under torch (rerunning
itself with `KERAS_BACKEND=torch` when needed) and checked with
onnxruntime; a model the converter cannot handle fails with a message
naming the op and the Keras layer.
"""

import argparse
import json
import os
import sys

import keras
import numpy as np

from msakeras.callbacks import atomic_files
from msakeras.cli import HelpFormatter
from msakeras.export import saved_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.export",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", help="a `.keras` file")
    parser.add_argument(
        "--output",
        required=True,
        help="the model's base folder (TF Serving --model_base_path), "
        "e.g. saved_models/mmim_mosi",
    )
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        help="integer version (default: the next free one); an existing "
        "version is never overwritten",
    )
    parser.add_argument(
        "--format",
        choices=("saved_model", "onnx"),
        default="saved_model",
        help="saved_model: DIR/<version>/ for TF Serving (exported under "
        "TensorFlow); onnx: DIR/<version>/model.onnx (exported under torch "
        "with torch.onnx, checked with onnxruntime)",
    )
    parser.add_argument(
        "--opset", type=int, default=None, help="ONNX opset (default: torch's)"
    )
    outputs = parser.add_mutually_exclusive_group()
    outputs.add_argument(
        "--outputs",
        nargs="+",
        default=list(saved_model.DEFAULT_SERVE_OUTPUTS),
        help="model outputs the signature returns (default: sentiment)",
    )
    outputs.add_argument(
        "--all-outputs",
        action="store_true",
        help="return every model output",
    )
    parser.add_argument(
        "--training-backend",
        default=None,
        help="recorded in export.json (default: run.json beside the "
        "model, else unknown)",
    )
    parser.add_argument(
        "--max-difference",
        type=float,
        default=saved_model.MAX_DIFFERENCE,
        help="fail when serving_default and predict differ by more",
    )
    # Used by `export_saved_model` when it reruns itself under TensorFlow.
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--reference-backend", default=None, help=argparse.SUPPRESS
    )
    parser.add_argument("--source-label", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--report", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _read_probe(path):
    with np.load(path) as data:
        batch = {
            key[len("input/") :]: data[key]
            for key in data.files
            if key.startswith("input/")
        }
        reference = {
            key[len("output/") :]: data[key]
            for key in data.files
            if key.startswith("output/")
        }
    return batch, reference


def export_onnx(args, serve_outputs):
    """`--format onnx`: `DIR/<version>/model.onnx`, checked with onnxruntime."""
    from msakeras.export import onnx_export as onnx

    if args.probe is not None and keras.config.backend() == "torch":
        import msakeras  # noqa: F401  (registers the classes)

        probes, reference = onnx.read_probe_file(args.probe)
        output_dir = os.path.abspath(args.output)
        return onnx.export_with_torch(
            keras.models.load_model(args.model, compile=False),
            os.path.abspath(args.model),
            output_dir,
            saved_model._resolve_version(output_dir, args.version),
            serve_outputs,
            args.training_backend
            or saved_model.training_backend_of(args.model),
            args.max_difference,
            opset_version=args.opset,
            reference=reference,
            probes=probes,
            reference_backend=args.reference_backend,
            source_label=args.source_label,
        )
    return onnx.export_onnx(
        args.model,
        args.output,
        version=args.version,
        serve_outputs=serve_outputs,
        training_backend=args.training_backend,
        max_difference=args.max_difference,
        opset_version=args.opset,
    )


def check_source(args):
    """`--version` non-negative; MODEL a readable msakeras `.keras`.

    DECISION: only classes registered under the `msakeras` package are
    exported; a plain Keras model has no `sentiment` output to serve.
    """
    from msakeras.models import input_checks

    if args.version is not None and args.version < 0:
        raise ValueError(
            f"--version must be a non-negative integer, got {args.version}."
        )
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"Model file '{args.model}' does not exist.")
    stored = input_checks.keras_file_class(args.model)
    if not str(stored).startswith("msakeras>"):
        raise ValueError(
            f"File '{args.model}' holds a '{stored}' model, not an "
            "msakeras model; export models trained with msakeras."
        )


def main(argv=None):
    args = parse_args(argv)
    serve_outputs = None if args.all_outputs else tuple(args.outputs)
    if args.probe is None:  # the user's call: refuse bad input up front
        try:
            check_source(args)
        except (ValueError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        atomic_files.check_writable_folder(args.output)
        if args.format == "onnx":
            record = export_onnx(args, serve_outputs)
        elif args.probe is not None and keras.config.backend() == "tensorflow":
            import msakeras  # noqa: F401  (registers the classes)

            probe, reference = _read_probe(args.probe)
            output_dir = os.path.abspath(args.output)
            version = saved_model._resolve_version(output_dir, args.version)
            training_backend = (
                args.training_backend
                or saved_model.training_backend_of(args.model)
            )
            record = saved_model._export_with_tensorflow(
                keras.models.load_model(args.model, compile=False),
                os.path.abspath(args.model),
                output_dir,
                version,
                serve_outputs,
                training_backend,
                args.max_difference,
                reference=reference,
                probe=probe,
                reference_backend=args.reference_backend,
                source_label=args.source_label,
            )
        else:
            record = saved_model.export_saved_model(
                args.model,
                args.output,
                version=args.version,
                serve_outputs=serve_outputs,
                training_backend=args.training_backend,
                max_difference=args.max_difference,
            )
    except (FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except saved_model.ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # read-only or full output folder
        if error.errno not in atomic_files.DISK_ERRNOS:
            raise
        print(atomic_files.disk_fault_message(error, "error"), file=sys.stderr)
        return 1
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
    check = record["check"]
    what = "onnxruntime" if args.format == "onnx" else "serving_default"
    print(
        f"wrote {record['path']} ({what} vs predict: max abs "
        f"difference {check['max_abs_difference']:.3g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

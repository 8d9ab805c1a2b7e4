"""`python -m msakeras.export MODEL.keras --output DIR [--version N]`.

Writes `DIR/<version>/` (SavedModel + `export.json`) in TF Serving layout,
verified against `predict`; see `msakeras.export.export_saved_model`. Under
a backend other than TensorFlow it reruns itself with
`KERAS_BACKEND=tensorflow`. `--format onnx` needs `tf2onnx` and
`onnxruntime`, which msakeras does not install.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import keras
import numpy as np

from msakeras.export import saved_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "--format", choices=("saved_model", "onnx"), default="saved_model"
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


def export_onnx(args):
    missing = []
    for module in ("onnx", "tf2onnx"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        print(
            "error: --format onnx needs the packages "
            f"{', '.join(missing)}, which are not installed (msakeras does "
            "not depend on them): pip install tf2onnx onnx onnxruntime",
            file=sys.stderr,
        )
        return 3
    if keras.config.backend() != "tensorflow":
        print(
            "error: --format onnx runs under TensorFlow: set "
            "KERAS_BACKEND=tensorflow",
            file=sys.stderr,
        )
        return 3
    import msakeras  # noqa: F401  (registers the classes)

    model = keras.models.load_model(args.model, compile=False)
    output_dir = os.path.abspath(args.output)
    version = saved_model._resolve_version(output_dir, args.version)
    input_signature = [
        {
            tensor.name: keras.InputSpec(
                shape=(None,) + tuple(tensor.shape[1:]),
                dtype=tensor.dtype,
                name=tensor.name,
            )
            for tensor in model.inputs
        }
    ]
    os.makedirs(output_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=output_dir)
    try:
        model.export(
            os.path.join(staging, "model.onnx"),
            format="onnx",
            input_signature=input_signature,
        )
    except Exception as error:  # the converter's message names the op
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: ONNX export failed: {error}", file=sys.stderr)
        return 1
    target = os.path.join(output_dir, str(version))
    os.rename(staging, target)
    print(f"wrote {os.path.join(target, 'model.onnx')} (not verified)")
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.format == "onnx":
        try:
            return export_onnx(args)
        except FileExistsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    serve_outputs = None if args.all_outputs else tuple(args.outputs)
    try:
        if args.probe is not None and keras.config.backend() == "tensorflow":
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
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
    check = record["check"]
    print(
        f"wrote {record['path']} (serving_default vs predict: max abs "
        f"difference {check['max_abs_difference']:.3g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

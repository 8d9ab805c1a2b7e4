"""The `msakeras` command (console script and `python -m msakeras`).

    msakeras train MODEL [recipe options]     # recipes/<MODEL>.py
    msakeras convert FORMAT [converter options]
    msakeras predict | export | compare | robustness | profile [options]
    msakeras --version

Each subcommand hands the rest of the command line to the tool's own parser,
so `msakeras train mmim --help` lists the recipe's options.
"""

import argparse
import importlib
import sys


class HelpFormatter(
    argparse.RawDescriptionHelpFormatter,
    argparse.ArgumentDefaultsHelpFormatter,
):
    """Keeps the description's layout and shows every option's default."""


MODELS = ("mmim", "hycon", "self_mi", "mcer", "dashfusion")
CONVERTERS = {
    "mmsa-pickle": "convert_mmsa_pickle",
    "mult-pickle": "convert_mult_pickle",
    "csd": "convert_csd",
    "csv": "convert_csv_features",
}
TOOLS = {
    "predict": "msakeras.predict",
    "export": "msakeras.export.__main__",
    "compare": "msakeras.compare.__main__",
    "robustness": "msakeras.robustness.__main__",
    "profile": "msakeras.profile.__main__",
    "tune": "msakeras.tune.__main__",
}
EXAMPLES = """examples:
  msakeras train mmim --epochs 1             # embedded synthetic MOSI
  msakeras train mmim --data mosi.h5 --seeds 1111 1112
  msakeras convert mmsa-pickle --help
  msakeras compare saved_models/mmim_mosi saved_models/hycon_mosi
  msakeras profile mcer --dataset mosi
  msakeras tune mmim --data mosi.h5 --space msakeras/tune/spaces/mmim.yaml
"""


def _import_shipped(folder, name):
    """`msakeras.<folder>.<name>` when installed from a wheel; in a git
    checkout `<folder>/` is a top-level package next to `msakeras/`."""
    try:
        return importlib.import_module(f"msakeras.{folder}.{name}")
    except ModuleNotFoundError as error:
        if error.name not in (
            f"msakeras.{folder}",
            f"msakeras.{folder}.{name}",
        ):
            raise
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isfile(os.path.join(root, folder, "__init__.py")):
        if root not in sys.path:
            sys.path.insert(0, root)
        return importlib.import_module(f"{folder}.{name}")
    raise ModuleNotFoundError(f"msakeras.{folder}.{name} is not installed")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="msakeras",
        description="Multimodal sentiment analysis with Keras 3: train the "
        "five models, convert datasets, predict, export, compare seeds, "
        "test robustness, profile and tune.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from msakeras import __version__

    parser.add_argument(
        "--version", action="version", version=f"msakeras {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train",
        help="train a model with its recipe (recipes/MODEL.py)",
        add_help=False,
    )
    train.add_argument("model", nargs="?", choices=MODELS, metavar="MODEL")
    convert = sub.add_parser(
        "convert",
        help="convert a release to the msakeras HDF5 file (data_prep/)",
        add_help=False,
    )
    convert.add_argument(
        "format", nargs="?", choices=sorted(CONVERTERS), metavar="FORMAT"
    )
    helps = {
        "predict": "predict with a trained model.keras",
        "export": "export a trained model (SavedModel, ONNX)",
        "compare": "paired statistics between two multi-seed runs",
        "robustness": "scores under missing or noisy modalities",
        "profile": "parameters, FLOPs, throughput and memory of a model",
        "tune": "hyperparameter search on Ray Tune, test split sealed",
    }
    for name in TOOLS:
        sub.add_parser(name, help=helps[name], add_help=False)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in ("train", "convert", *TOOLS):
        parser.parse_args(argv or ["--help"])
        parser.error(f"unknown command {argv[0]!r}")
    command, rest = argv[0], argv[1:]
    if command in TOOLS:
        return _status(importlib.import_module(TOOLS[command]).main(rest))
    choices = MODELS if command == "train" else sorted(CONVERTERS)
    if not rest or rest[0].startswith("-"):
        what = "MODEL" if command == "train" else "FORMAT"
        print(
            f"usage: msakeras {command} {what} [options]\n\n"
            f"{what}: one of {', '.join(choices)}; "
            f"`msakeras {command} {choices[0]} --help` lists its options.",
            file=sys.stdout if rest else sys.stderr,
        )
        return 0 if rest and rest[0] in ("-h", "--help") else 2
    if rest[0] not in choices:
        parser.exit(
            2,
            f"msakeras {command}: error: unknown {rest[0]!r}; expected one "
            f"of {', '.join(choices)}\n",
        )
    if command == "train":
        module = _import_shipped("recipes", rest[0])
    else:
        module = _import_shipped("data_prep", CONVERTERS[rest[0]])
    return _status(module.main(rest[1:]))


def _status(result):
    """Tools return an exit status; recipes return their scores."""
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line every recipe shares, resolved into one run's arguments.

`base_parser` declares the shared flags (README, "Recipes"); a recipe adds
its own, parses, then `finish_args` resolves the data file, dataset,
hyperparameters (the model's preset for the dataset and, without `--data`,
its `EMBEDDED_DEFAULTS`, both from `msakeras/models/<model>/<model>_
presets.py`; then `--config`/`--set`, then the explicit flags), seeds,
selection rule and output folder, and checks them before any training
(one line on a fault). `add_ablation_switches`/`apply_ablation_switches`
turn a presets file's `ABLATION_SWITCHES` into flags and table changes.
"""

import argparse
import os

from msakeras import data as msa_data
from msakeras.experiment import run_configuration
from msakeras.experiment.run_arguments import check_run_arguments
from msakeras.experiment.selection_rule import SelectionRule
from msakeras.layers.encoders import backbone_vocabulary
from msakeras.models import presets

DEFAULT_SEEDS = [1111, 1112, 1113, 1114, 1115]
DATASETS = ("mosi", "mosei", "sims")


def base_parser(model_name, description):
    """The flags every recipe shares (README)."""
    parser = argparse.ArgumentParser(
        prog=f"recipes/{model_name}.py",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=None,
        help="standard HDF5 file (data_prep/ converts the releases); "
        "default: the embedded synthetic set, made on first use",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="hyperparameters and metric protocol; must agree with the "
        "file (default: the file's, else mosi)",
    )
    parser.add_argument(
        "--text-backbone",
        default=None,
        help="keras-hub preset name or local Hugging Face BERT folder "
        "(default: the bundled MiniLM, offline)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="maximum epochs (default: the paper's with "
        "--data, a short run on the embedded data)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="default: the paper's for the dataset",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="default: 1111-1115 with --data, 1111 without",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="early-stopping patience on val_mae (default: the recipe's; "
        "recipes whose paper trains a fixed budget stop early only with "
        "this flag)",
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        help="default: saved_models/<model>_<dataset>/runs",
    )
    parser.add_argument(
        "--results-dir",
        default=None,
        help="folder of the cross-model table results_<dataset>.csv/.md "
        "(default: saved_models for the default --output-dir, else the "
        "parent of --output-dir)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run; finished seeds are skipped",
    )
    parser.add_argument(
        "--tensorboard",
        action="store_true",
        help="write TensorBoard logs under torch/JAX too (loads TensorFlow "
        "into the process; under TensorFlow the logs are always written)",
    )
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="mixed_float16 on GPU, mixed_bfloat16 on CPU",
    )
    parser.add_argument(
        "--distribute",
        choices=("none", "auto", "data-parallel"),
        default="none",
        help="data-parallel training on the backend's engine (JAX "
        "keras.distribution, TF MirroredStrategy, torch DDP under torchrun); "
        "--batch-size is the global batch (README, 'Training on more than "
        "one device')",
    )
    parser.add_argument(
        "--max-train-samples",
        type=int,
        default=None,
        help="train on the first N training samples only",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="Keras progress output (0 silent, 1 bar, 2 one line per epoch)",
    )
    run_configuration.add_arguments(parser)
    parser.add_argument(
        "--validation-only",
        action="store_true",
        help="train and select on validation; leave the test split sealed "
        "(a search trial). A later --resume run over the same folder "
        "without this flag reads the test split once for the checkpoint",
    )
    parser.add_argument(
        "--export",
        nargs="?",
        const="best",
        default=None,
        choices=("best", "all"),
        help="after training, export the best seed's model.keras (lowest "
        "val_mae; `all`: every seed's) as a SavedModel version under "
        "--export-dir (TF Serving layout, see saved_models/README.md)",
    )
    parser.add_argument(
        "--export-dir",
        default=None,
        help="TF Serving base path for --export (default: the folder above "
        "--output-dir, i.e. saved_models/<model>_<dataset>)",
    )
    parser.add_argument(
        "--compile",
        default="auto",
        choices=("auto", "on", "off"),
        help="compiled train step (Keras jit_compile: XLA / jax.jit / "
        "torch.compile); auto: Keras's default (jax.jit under JAX, XLA "
        "under TensorFlow only on a GPU, uncompiled under torch); models "
        "a backend cannot compile run uncompiled; recorded in run.json",
    )
    parser.add_argument(
        "--export-format",
        default="saved_model",
        choices=("saved_model", "onnx", "both"),
        help="--export writes a SavedModel version (saved_model), an ONNX "
        "version under <export-dir>/onnx/ (onnx), or both",
    )
    return parser


def add_ablation_switches(parser, switches):
    """Adds a `store_true` flag `--<name>` per entry of `switches`
    (`{name: (help, table changes)}`, a presets file's
    `ABLATION_SWITCHES`; `no_contrastive` -> `--no-contrastive`)."""
    for name, (help_text, _) in switches.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, action="store_true", help=help_text)


def apply_ablation_switches(args, switches):
    """Applies the table changes of every switch given on the command
    line to `args.hyperparameters` (after `finish_args`: a switch wins
    over `--config`/`--set`)."""
    for name, (_, changes) in switches.items():
        if getattr(args, name):
            args.hyperparameters.update(changes)


def set_variant_output_dir(args, model_name, choices):
    """Default `--output-dir` of a variant run: `saved_models/<model>_
    <dataset>/runs_<a>_<b>` from the `(value, default)` `choices` whose
    value is not the default (none differ: the standard `runs`)."""
    variant = [value for value, default in choices if value != default]
    if args.output_dir is None and variant:
        dataset = args.dataset or "mosi"
        args.output_dir = os.path.join(
            "saved_models",
            f"{model_name}_{dataset}",
            "runs_" + "_".join(variant),
        )


def finish_args(args, model_name, hyperparameters=None, embedded_defaults=None):
    """Resolves the data file, dataset, seeds, epochs and output folder.

    Args:
        args: the parsed `argparse.Namespace` (`base_parser`'s flags).
        model_name: str. The model (`"mmim"`), its presets module's name.
        hyperparameters: `{dataset: table}`; default: the model's presets
            (`msakeras.models.presets.recipe_tables`).
        embedded_defaults: dict. Changes of a run without `--data`;
            default: the presets module's `EMBEDDED_DEFAULTS`.

    A presets module's `SELECTION` (keyword arguments of `SelectionRule`;
    `start_epoch` capped at the run's epochs) becomes `args.selection`.
    """
    selection = None
    if hyperparameters is None:
        module = presets.presets_module(model_name)
        hyperparameters = presets.recipe_tables(model_name)
        if embedded_defaults is None:
            embedded_defaults = module.EMBEDDED_DEFAULTS
        selection = getattr(module, "SELECTION", None)
    if args.data is None:
        dataset = args.dataset or "mosi"
        args.data = msa_data.ensure_synthetic_dataset(dataset)
        args.embedded = True
    else:
        if not os.path.isfile(args.data):
            raise SystemExit(f"--data {args.data!r}: no such file.")
        args.embedded = False
    attributes = msa_data.read_attributes(args.data)
    file_dataset = msa_data.schema.base_dataset_name(attributes["dataset"])
    if args.dataset is not None and args.dataset != file_dataset:
        raise SystemExit(
            f"--dataset {args.dataset} disagrees with {args.data!r}, whose "
            f"`dataset` attribute is {attributes['dataset']!r}."
        )
    args.dataset = file_dataset
    args.attributes = attributes
    settings = dict(hyperparameters[args.dataset])
    if args.embedded:
        settings.update(embedded_defaults or {})
    try:  # --config FILE.yaml, then --set key=value (README, Configuration)
        settings, args.configuration_sources = (
            run_configuration.resolve_configuration(
                settings, args.config, args.set, f"{model_name}/{args.dataset}"
            )
        )
    except run_configuration.ConfigurationError as error:
        raise SystemExit(str(error)) from None
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.patience is not None:
        settings["patience"] = args.patience
    args.hyperparameters = settings
    preset = hyperparameters[args.dataset]  # cross-model table's `changes`
    args.preset_changes = {
        key: value
        for key, value in settings.items()
        if key not in preset or preset[key] != value
    }
    if args.seeds is None:
        args.seeds = [DEFAULT_SEEDS[0]] if args.embedded else DEFAULT_SEEDS
    if args.output_dir is None:
        args.output_dir = os.path.join(
            "saved_models", f"{model_name}_{args.dataset}", "runs"
        )
    args.model_name = model_name
    print(
        run_configuration.format_configuration(
            settings,
            args.configuration_sources,
            f"{model_name} on {args.dataset}",
        )
    )
    try:  # bad flags and data faults: one line, before any training
        check_run_arguments(settings, args.seeds, args.max_train_samples)
        msa_data.validate_file(args.data)
        backbone_vocabulary.check_backbone_vocabulary(  # SIMS: Chinese BERT
            args.data, attributes.get("text_vocabulary"), args.text_backbone
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if selection is not None:
        start_epoch = min(selection["start_epoch"], settings["epochs"])
        args.selection = SelectionRule(
            **{**selection, "start_epoch": start_epoch}
        )
    return args

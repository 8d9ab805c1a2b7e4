"""The command line every recipe shares, resolved into one `RunSettings`.

`base_parser` declares the shared flags (README, "Recipes"); a recipe adds
its own, parses, then `finish_args` resolves the data file, dataset,
hyperparameters (the model's preset for the dataset and, without `--data`,
its `EMBEDDED_DEFAULTS`, both from `msakeras/models/<model>/<model>_
presets.py`; then `--config`/`--set`, then the explicit flags), seeds,
selection rule and output folder into a read-only `RunSettings`
(`run_settings`), checked before any training (one line on a fault).
`add_ablation_switches`/`apply_ablation_switches` turn a presets file's
`ABLATION_SWITCHES` into flags and table changes.
"""

import argparse
import os

from msakeras import data as msa_data
from msakeras.experiment import run_configuration
from msakeras.experiment.run_settings import RunSettings
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


def apply_ablation_switches(run, switches):
    """The `RunSettings` `run` with the table changes of every switch given
    on the command line (after `finish_args`: a switch wins over
    `--config`/`--set`)."""
    changes = {}
    for name, (_, table_changes) in switches.items():
        if run.recipe_flags[name]:
            changes.update(table_changes)
    return run.with_hyperparameters(**changes) if changes else run


def variant_output_dir(model_name, dataset, choices):
    """Default `--output-dir` of a variant run: `saved_models/<model>_
    <dataset>/runs_<a>_<b>` from the `(value, default)` `choices` whose
    value is not the default; `None` when none differ (the standard
    `runs`). `dataset`: the `--dataset` flag (`None`: mosi)."""
    variant = [value for value, default in choices if value != default]
    if not variant:
        return None
    return os.path.join(
        "saved_models",
        f"{model_name}_{dataset or 'mosi'}",
        "runs_" + "_".join(variant),
    )


def _base_flag_names():
    """The destinations of `base_parser`'s flags (the rest of a recipe's
    namespace are its own flags)."""
    return set(vars(base_parser("recipe", "").parse_args([])))


def finish_args(
    args,
    model_name,
    hyperparameters=None,
    embedded_defaults=None,
    default_output_dir=None,
):
    """Resolves the parsed command line into the run's `RunSettings`.

    Args:
        args: the parsed `argparse.Namespace` (`base_parser`'s flags and
            the recipe's own); read, never changed.
        model_name: str. The model (`"mmim"`), its presets module's name.
        hyperparameters: `{dataset: table}`; default: the model's presets
            (`msakeras.models.presets.recipe_tables`).
        embedded_defaults: dict. Changes of a run without `--data`;
            default: the presets module's `EMBEDDED_DEFAULTS`.
        default_output_dir: str or None. The output folder without
            `--output-dir` (`variant_output_dir`); `None`:
            `saved_models/<model>_<dataset>/runs`.

    Returns:
        A `RunSettings` (`msakeras.experiment.run_settings`). A presets
        module's `SELECTION` (keyword arguments of `SelectionRule`;
        `start_epoch` capped at the run's epochs) becomes its `selection`.
        Bad flags and data faults end the run with one line
        (`SystemExit`), before any training.
    """
    selection = None
    if hyperparameters is None:
        module = presets.presets_module(model_name)
        hyperparameters = presets.recipe_tables(model_name)
        if embedded_defaults is None:
            embedded_defaults = module.EMBEDDED_DEFAULTS
        selection = getattr(module, "SELECTION", None)
    embedded = args.data is None
    if embedded:
        data = msa_data.ensure_synthetic_dataset(args.dataset or "mosi")
    else:
        data = args.data
        if not os.path.isfile(data):
            raise SystemExit(f"--data {data!r}: no such file.")
    attributes = msa_data.read_attributes(data)
    dataset = msa_data.schema.base_dataset_name(attributes["dataset"])
    if args.dataset is not None and args.dataset != dataset:
        raise SystemExit(
            f"--dataset {args.dataset} disagrees with {data!r}, whose "
            f"`dataset` attribute is {attributes['dataset']!r}."
        )
    settings = dict(hyperparameters[dataset])
    if embedded:
        settings.update(embedded_defaults or {})
    try:  # --config FILE.yaml, then --set key=value (README, Configuration)
        settings, configuration_sources = (
            run_configuration.resolve_configuration(
                settings, args.config, args.set, f"{model_name}/{dataset}"
            )
        )
    except run_configuration.ConfigurationError as error:
        raise SystemExit(str(error)) from None
    for key, flag in (
        ("batch_size", args.batch_size),
        ("epochs", args.epochs),
        ("patience", args.patience),
    ):
        if flag is not None:
            settings[key] = flag
    preset = hyperparameters[dataset]  # cross-model table's `changes`
    preset_changes = {
        key: value
        for key, value in settings.items()
        if key not in preset or preset[key] != value
    }
    seeds = args.seeds
    if seeds is None:
        seeds = [DEFAULT_SEEDS[0]] if embedded else DEFAULT_SEEDS
    output_dir = args.output_dir or default_output_dir
    if output_dir is None:
        output_dir = os.path.join(
            "saved_models", f"{model_name}_{dataset}", "runs"
        )
    print(
        run_configuration.format_configuration(
            settings, configuration_sources, f"{model_name} on {dataset}"
        )
    )
    command_line = vars(args)
    base_flags = _base_flag_names()
    if selection is not None:
        start_epoch = min(selection["start_epoch"], settings["epochs"])
        selection = SelectionRule(**{**selection, "start_epoch": start_epoch})
    try:  # bad flags and data faults: one line, before any training
        run = RunSettings(
            model_name=model_name,
            data=data,
            dataset=dataset,
            embedded=embedded,
            attributes=attributes,
            text_backbone=args.text_backbone,
            max_train_samples=args.max_train_samples,
            hyperparameters=settings,
            preset_changes=preset_changes,
            configuration_sources=configuration_sources,
            config=args.config,
            overrides=args.set,
            selection=selection,
            seeds=seeds,
            output_dir=output_dir,
            results_dir=args.results_dir,
            resume=args.resume,
            validation_only=args.validation_only,
            verbose=args.verbose,
            tensorboard=args.tensorboard,
            export=args.export,
            export_dir=args.export_dir,
            export_format=args.export_format,
            mixed_precision=args.mixed_precision,
            distribute=args.distribute,
            compile=args.compile,
            recipe_flags={
                key: value
                for key, value in command_line.items()
                if key not in base_flags
            },
            command_line=command_line,
        )
        msa_data.validate_file(data)
        backbone_vocabulary.check_backbone_vocabulary(  # SIMS: Chinese BERT
            data, attributes.get("text_vocabulary"), args.text_backbone
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return run

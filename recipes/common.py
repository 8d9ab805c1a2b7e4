"""Glue shared by every recipe: flags, data, text encoder, callbacks, results.

Recipes define no layer, loss or model; everything they build comes from
`msakeras`. This module owns what every recipe does the same way: the
command line, the embedded synthetic default, Keras callbacks (progress bar,
EarlyStopping, ModelCheckpoint, CSVLogger, TensorBoard, BackupAndRestore),
reloading the selected checkpoint, scoring the test split once, and the
per-seed / summary records.
"""

import argparse
import importlib.util
import json
import os
import shutil
import time

# Under torch or JAX nothing in a training process needs TensorFlow (export
# runs in a child): keep it out (msakeras.backend.tensorflow_guard; ~0.66 GB
# resident and ~3.6 s of start-up). `--tensorboard` lets it back in.
os.environ.setdefault("MSAKERAS_KEEP_TENSORFLOW_OUT", "1")

# msakeras first: run as a command, it turns the frameworks' native log
# noise off before Keras loads one (msakeras._framework_logs).
from msakeras import _framework_logs  # noqa: E402

_framework_logs.set_quiet_defaults()  # also when imported by a script

import keras  # noqa: E402
import numpy as np  # noqa: E402

import msakeras  # noqa: E402
from msakeras import experiment  # noqa: E402
from msakeras.backend import tensorflow_guard  # noqa: E402
from msakeras.callbacks import atomic_files  # noqa: E402
from msakeras.experiment import run_configuration  # noqa: E402
from msakeras.layers.encoders import backbone_vocabulary  # noqa: E402

DEFAULT_SEEDS = [1111, 1112, 1113, 1114, 1115]
DATASETS = ("mosi", "mosei", "sims")
BUNDLED_VOCABULARY = "bert_base_uncased"
# Model selection: best validation MAE; the test split opens only after it
# is sealed (msakeras.experiment).
SELECTION = experiment.SelectionRule(monitor="val_mae", mode="min")


# --- command line ----------------------------------------------------------
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


def finish_args(args, model_name, hyperparameters, embedded_defaults):
    """Resolves the data file, dataset, seeds, epochs and output folder."""
    if args.data is None:
        dataset = args.dataset or "mosi"
        args.data = msakeras.data.ensure_synthetic_dataset(dataset)
        args.embedded = True
    else:
        if not os.path.isfile(args.data):
            raise SystemExit(f"--data {args.data!r}: no such file.")
        args.embedded = False
    attributes = msakeras.data.read_attributes(args.data)
    file_dataset = msakeras.data.schema.base_dataset_name(attributes["dataset"])
    if args.dataset is not None and args.dataset != file_dataset:
        raise SystemExit(
            f"--dataset {args.dataset} disagrees with {args.data!r}, whose "
            f"`dataset` attribute is {attributes['dataset']!r}."
        )
    args.dataset = file_dataset
    args.attributes = attributes
    settings = dict(hyperparameters[args.dataset])
    if args.embedded:
        settings.update(embedded_defaults)
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
        experiment.check_run_arguments(
            settings, args.seeds, args.max_train_samples
        )
        msakeras.data.validate_file(args.data)
        backbone_vocabulary.check_backbone_vocabulary(  # SIMS: Chinese BERT
            args.data, attributes.get("text_vocabulary"), args.text_backbone
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return args


# --- building blocks -------------------------------------------------------
def set_precision(args):
    if args.mixed_precision:
        on_gpu = bool(keras.config.backend() != "numpy" and _has_gpu())
        keras.mixed_precision.set_global_policy(
            "mixed_float16" if on_gpu else "mixed_bfloat16"
        )


def resolve_jit_compile(setting, model):
    """`(jit_compile, reason)` for `--compile auto|on|off` and `model`.

    `auto` is Keras's own `jit_compile="auto"`, the path every recipe ran
    before `--compile` existed: `jax.jit` under JAX, XLA under TensorFlow
    only on a GPU without a distribution strategy, uncompiled under torch.
    A model that cannot compile on a backend (`MSAModel.
    jit_compile_unsupported`) runs uncompiled whatever the setting. Each
    compiled step is tested equal to the uncompiled one
    (tests/training/test_compiled_steps.py); README "Compiled train steps"
    gives the timings behind keeping TensorFlow and torch uncompiled on CPU.
    """
    backend = keras.config.backend()
    unsupported = getattr(model, "jit_compile_unsupported", {}).get(backend)
    if setting == "on":
        if unsupported:
            return False, f"--compile on; not supported: {unsupported}"
        return True, "--compile on"
    if setting == "off":
        return False, "--compile off"
    if unsupported:
        return False, f"auto: not supported: {unsupported}"
    resolved = bool(model._resolve_auto_jit_compile())
    where = "on a GPU" if _has_gpu() else "on CPU"
    state = "compiled" if resolved else "uncompiled"
    return resolved, f"auto: {backend} {where} runs {state} (Keras's rule)"


def apply_jit_compile(args, model):
    """Sets the compiled model's `jit_compile` from `--compile`; returns the
    `run.json` entry (requested, resolved, reason)."""
    setting = getattr(args, "compile", "auto")
    jit_compile, reason = resolve_jit_compile(setting, model)
    if setting == "on":
        model.jit_compile = True  # warns where the model refuses
    else:
        model.jit_compile = jit_compile
    return {
        "requested": setting,
        "jit_compile": bool(model.jit_compile),
        "reason": reason,
    }


def _has_gpu():
    backend = keras.config.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    return False


def make_text_encoder(args, fine_tune=True):
    """`BertTextEncoder` over `--text-backbone` (default: bundled MiniLM)."""
    backbone = msakeras.layers.load_bert_backbone(args.text_backbone)
    try:
        backbone_vocabulary.check_vocabulary_size(
            args.data,
            args.attributes.get("text_vocabulary"),
            args.text_backbone,
            backbone.vocabulary_size,
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return msakeras.layers.BertTextEncoder(
        backbone, fine_tune=fine_tune, name="text_encoder"
    )


def make_datasets(args, model, seed):
    """Train / valid `FeatureSequence`s and the sealed `HeldOutTestSplit`.

    Under `--distribute` each process reads only its shard of every global
    batch of the training split (`batch_size` is the global batch); the
    valid and test splits are read whole by every process.
    """
    input_keys = [tensor.name for tensor in model.inputs]
    batch_size = args.hyperparameters["batch_size"]
    setup = data_parallel(args)

    def split(name, shuffle, max_samples=None, sharded=True):
        return msakeras.data.FeatureSequence(
            args.data,
            name,
            batch_size=batch_size,
            input_keys=input_keys,
            shuffle=shuffle,
            seed=seed,
            max_samples=max_samples,
            shard_index=setup.process_index if sharded else 0,
            shard_count=setup.process_count if sharded else 1,
        )

    return (
        split("train", True, args.max_train_samples),
        # Validation whole in every process: the same val_mae everywhere,
        # so checkpoint and early-stopping decisions agree across processes.
        selection_rule(args).check_validation_data(
            split("valid", False, sharded=False)
        ),
        experiment.HeldOutTestSplit(args.data, "test"),
    )


def data_parallel(args):
    """The `DataParallelSetup` of `--distribute`, made once per run."""
    from msakeras.backend import distribute

    setup = getattr(args, "data_parallel_setup", None)
    if setup is None:
        setup = distribute.setup_data_parallel(
            getattr(args, "distribute", "none")
        )
        args.data_parallel_setup = setup
        if setup.engine != "none":
            print(f"data parallel: {setup}")
    return setup


def check_data_parallel(model, setup):
    """Refuses a model whose objective is not yet split-safe (TF, torch).

    On TensorFlow and torch each replica computes the loss on its slice of
    the batch; a model's objective terms that need the whole batch
    (in-batch contrastive losses, batch statistics) must gather it, and
    its extra loss terms must be scaled for the engine's reduction. Models
    that do so say `supports_replica_split = True` (MMIM). JAX's
    `keras.distribution` runs one program over the global batch, so every
    model is exact there.
    """
    if setup.num_replicas == 1 or setup.engine == "jax-data-parallel":
        return
    if not getattr(model, "supports_replica_split", False):
        reason = getattr(model, "replica_split_refusal", None) or (
            "its objective computes batch-level terms per replica (not "
            "gathered over replicas, not scaled for the gradient reduction)"
        )
        raise SystemExit(
            f"{type(model).__name__} does not support --distribute on "
            f"{setup.engine} yet: {reason}; two replicas would not train "
            "the same model as one device. Use the JAX backend (exact for "
            "every model), one device, or MMIM."
        )


def run_directory(args, seed):
    """`<output-dir>/seed_<seed>`; refuses to reuse one without --resume."""
    directory = os.path.join(args.output_dir, f"seed_{seed}")
    if os.path.isdir(directory) and os.listdir(directory) and not args.resume:
        raise SystemExit(
            f"{directory} already holds a run; pass --resume to continue it "
            "or choose another --output-dir."
        )
    os.makedirs(directory, exist_ok=True)
    return directory


def check_resume_settings(args, directory):
    """Records the run's data hash and settings; --resume must match."""
    settings = experiment.run_settings(
        args.data,
        args.model_name,
        args.dataset,
        args.hyperparameters,
        {"max_train_samples": args.max_train_samples},
    )
    try:
        experiment.check_or_record(directory, settings, args.resume)
    except ValueError as error:
        raise SystemExit(str(error)) from None


def finished_scores(directory):
    """The recorded test scores of a finished seed, or None."""
    record = run_record(directory)
    return None if record is None else record.get("test")


def run_record(directory):
    """The `run.json` of a finished seed's folder, or None."""
    path = os.path.join(directory, "run.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def callbacks(args, directory, datasets=()):
    """The standard Keras callbacks of a recipe run, in a safe order.

    `NonFiniteLossGuard` comes first: on a NaN/inf loss term it raises
    before any later `on_epoch_end` writes a checkpoint, backup or history
    row. `ResumableBackup` comes last: it restores the state of the
    checkpoint and early-stopping callbacks (after their `on_train_begin`)
    and commits each epoch only after they have written theirs.
    """
    # `patience: None` in a recipe's table: the paper's fixed budget, no
    # early stopping unless --patience is given (finish_args sets it).
    patience = args.hyperparameters.get("patience", 10)
    history_csv = os.path.join(directory, "history.csv")
    checkpoint = selection_rule(args).checkpoint_callback(
        os.path.join(directory, "model.keras")
    )
    stateful = [checkpoint]
    if patience is not None:
        stateful.append(selection_rule(args).early_stopping(patience))
    standard = [
        msakeras.callbacks.NonFiniteLossGuard(),
        *stateful,
        # history.csv numbers epochs from 1, as run.json and the bar do.
        msakeras.callbacks.EpochCSVLogger(history_csv, append=args.resume),
        *tensorboard_callback(
            directory, requested=getattr(args, "tensorboard", False)
        ),
        msakeras.callbacks.ResumableBackup(
            os.path.join(directory, "backup"),
            stateful_callbacks=stateful,
            datasets=datasets,
            history_csv=history_csv,
            delete_checkpoint=False,
        ),
    ]
    kill_at = os.environ.get(KILL_AT_VARIABLE)
    if kill_at:
        standard.append(KillAtBatch(*map(int, kill_at.split(","))))
    # Keras's bar without diagnostic counters (entropy_skipped_classes
    # stays in history.csv and run.json).
    standard.append(msakeras.callbacks.ProgressBar())
    return standard


def selection_rule(args):
    """The recipe's `SelectionRule` (`args.selection`), else `SELECTION`."""
    return getattr(args, "selection", None) or SELECTION


def tensorboard_callback(directory, requested=False):
    """`[keras.callbacks.TensorBoard]`, or `[]`.

    Keras writes TensorBoard logs through `tf.summary` under every backend.
    Under TensorFlow they are always written. Under torch or JAX the recipe
    keeps TensorFlow out of the process (`tensorflow_guard`), so the logs
    are written only when `requested` (`--tensorboard`), which loads
    TensorFlow. An environment without TensorFlow (a torch- or JAX-only GPU
    image) still trains; the logs are skipped with a message.
    """
    if tensorflow_guard.tensorflow_blocked():
        if not requested:
            return []
        tensorflow_guard.allow_tensorflow()
    if importlib.util.find_spec("tensorflow") is None:
        print("TensorFlow is not installed: no TensorBoard logs.")
        return []
    return [
        keras.callbacks.TensorBoard(
            os.path.join(directory, "tensorboard"), write_graph=False
        )
    ]


# Test hook (tests/recipes/test_resume_and_determinism.py): SIGKILL this
# process at `<epoch>,<batch>` (0-based), as an out-of-memory kill would.
KILL_AT_VARIABLE = "MSAKERAS_TEST_KILL_AT"


class KillAtBatch(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.kill_epoch = epoch
        self.kill_batch = batch
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (self.kill_epoch, self.kill_batch):
            import signal

            print(f"killing at epoch {self.epoch}, batch {batch}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def evaluate_checkpoint(args, directory, test):
    """Scores the selected `model.keras` on the test data read once."""
    return checkpoint_evaluator()(args, directory, test)


def checkpoint_evaluator(extra_protocols=(), unimodal_heads=()):
    """An `evaluate` for `train_seeds` that also scores other protocols.

    The MMSA keys come first, unchanged; each extra protocol's scores
    follow with a prefix (`"mag_bert"` gives `MAGBERT_Mult_acc_7`,
    `MAGBERT_Acc_2`, `MAGBERT_F1_score`, `MAGBERT_MAE`, `MAGBERT_Corr`;
    `docs/protocol.md`), from the same single test prediction.

    `unimodal_heads` (e.g. `("text", "audio", "vision")` for Self-MI):
    the model's `<modality>_sentiment` outputs of that same prediction are
    scored against the split's human unimodal labels `label_<modality>`
    (SIMS files have them), and `evaluate` returns `(scores, extra)` with
    `extra = {"unimodal_test": {modality: scores}}` (`None` when the file
    has no unimodal labels); `train_seeds` stores `extra` in `run.json`.
    No second test read: the test split opens once, behind the seal.
    """

    def evaluate(args, directory, test):
        # `test`: the HeldOutTestData of the one sealed read.
        model = keras.models.load_model(
            os.path.join(directory, "model.keras"), compile=False
        )  # predicts only: no optimizer to revive (no warnings)
        outputs = test.predict(
            model, batch_size=args.hyperparameters["batch_size"]
        )
        predictions = outputs["sentiment"].reshape(-1)
        labels = test.labels()
        scores = msakeras.metrics.sentiment_scores(
            predictions, labels, args.dataset
        )
        for protocol in extra_protocols:
            prefix = protocol.replace("_", "").upper()
            extra = msakeras.metrics.sentiment_scores(
                predictions, labels, args.dataset, protocol=protocol
            )
            scores.update(
                {f"{prefix}_{key}": value for key, value in extra.items()}
            )
        if not unimodal_heads:
            return scores
        return scores, {
            "unimodal_test": unimodal_head_scores(
                args, outputs, test, unimodal_heads
            )
        }

    return evaluate


def unimodal_head_scores(args, outputs, test, modalities):
    """`{modality: scores}` of the `<modality>_sentiment` outputs against
    the human unimodal labels `label_<modality>` of `test` (the
    `HeldOutTestData` of the sealed read), or `None` without them."""
    if not all(test.has(f"label_{modality}") for modality in modalities):
        return None
    scores = {}
    for modality in modalities:
        key = f"{modality}_sentiment"
        if key not in outputs:
            raise ValueError(
                f"Checkpoint has no output {key!r} to score against the "
                f"test split's 'label_{modality}' of '{test.path}'; its "
                f"outputs are {sorted(outputs)}."
            )
        scores[modality] = msakeras.metrics.sentiment_scores(
            np.reshape(outputs[key], (-1,)),
            test.labels(f"label_{modality}"),
            args.dataset,
        )
    return scores


def ridge_baselines(args, test):
    """Single-modality (and all-feature) NumPy ridge baselines.

    Fitted on train (alpha by leave-one-out on train), scored on `test`, the
    `HeldOutTestData` of the first seed's sealed read: no extra test read.
    """
    train = msakeras.data.load_split(args.data, "train")
    return msakeras.metrics.single_modality_ridge_baselines(
        train, test.arrays, args.dataset, alpha="auto"
    )


# --- records ---------------------------------------------------------------
def versions():
    return experiment.library_versions()


def write_run_record(
    args,
    directory,
    seed,
    history,
    scores,
    baselines,
    wall_seconds,
    steps_per_second,
    selection=SELECTION,
    extra=None,
):
    """`run.json`: the run receipt (msakeras.experiment.run_receipt), the
    arguments, the sealed selection, the test scores and `extra` (further
    results of the same test read, e.g. `unimodal_test`)."""
    receipt = experiment.run_receipt(
        args.data,
        seed,
        args.hyperparameters,
        selection,
        dataset=args.attributes.get("dataset"),
    )
    record = {
        "model": args.model_name,
        **receipt,
        "arguments": {
            key: value
            for key, value in vars(args).items()
            if key not in ("attributes", "hyperparameters")
        },
        "epochs_run": len(history.get("loss", [])) if history else None,
        "wall_seconds": round(wall_seconds, 1),
        "train_steps_per_second": steps_per_second,
        "test": scores,
        "ridge_baselines": baselines,
    }
    for key, value in (extra or {}).items():
        if key in record:
            raise ValueError(
                f"run.json of {directory}: extra entry {key!r} would "
                "overwrite a standard one."
            )
        record[key] = value
    temporary = os.path.join(directory, "run.json.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2, default=_json_default)
    os.replace(temporary, os.path.join(directory, "run.json"))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def plot_curves(directory, selected_epoch=None, title=None):
    """`curves.png` and `curves.pdf` from `history.csv`: a titled grid,
    the selected epoch marked (msakeras.experiment.training_curves)."""
    import pandas as pd

    from msakeras.experiment import training_curves

    path = os.path.join(directory, "history.csv")
    if not os.path.isfile(path):
        return
    history = pd.read_csv(path)
    if history.empty:
        return
    training_curves.plot_training_curves(
        history, os.path.join(directory, "curves"), selected_epoch, title
    )


def write_results(args, scores_by_seed, baselines):
    """Prints and writes `summary.csv`/`summary.md` (mean ± std over seeds).

    Then, with `--export`, exports the selected seed(s) (`export_models`).
    With `--validation-only` there are no test scores: nothing to write.
    A read-only or full disk ends it with one line.
    """
    if getattr(args, "validation_only", False):
        print(f"\n{args.model_name}: validation only, test split sealed")
        return None
    with atomic_files.disk_faults_exit(f"{args.model_name} results"):
        _write_results(args, scores_by_seed, baselines)


def _write_results(args, scores_by_seed, baselines):
    seeds = sorted(scores_by_seed)
    table = msakeras.metrics.summarize_seeds(
        [scores_by_seed[seed] for seed in seeds], seeds=seeds
    )
    msakeras.metrics.write_summary(table, args.output_dir)
    print(
        f"\n{args.model_name} on {args.data} ({args.dataset}), backend "
        f"{keras.config.backend()}: test scores of the selected "
        "checkpoints"
    )
    print(msakeras.metrics.to_markdown(table))
    if baselines:
        import pandas as pd

        rows = {f"ridge_{name}": values for name, values in baselines.items()}
        rows[f"{args.model_name} (mean)"] = table.loc["mean"].to_dict()
        print("\nSingle-modality ridge baselines on the same test split:")
        print(msakeras.metrics.to_markdown(pd.DataFrame(rows).T))
    update_results_table(args, table)
    export_models(args, seeds)  # --export, for every recipe
    return table


# Flags that manage a run without changing what is trained (left out of the
# configuration id of the cross-model table).
RUN_MANAGEMENT = frozenset(
    "data dataset seeds output_dir results_dir resume tensorboard verbose "
    "export export_dir export_format distribute config set embedded "
    "configuration_sources preset_changes attributes hyperparameters "
    "model_name epochs batch_size patience compile".split()
)


def results_directory(args):
    """`--results-dir`, else the folder above `<model>_<dataset>/runs`
    (saved_models), else the parent of `--output-dir`."""
    if getattr(args, "results_dir", None):
        return args.results_dir
    output = os.path.abspath(args.output_dir)
    parent = os.path.dirname(output)
    default_layout = f"{args.model_name}_{args.dataset}"
    if os.path.basename(output) == "runs" and (
        os.path.basename(parent) == default_layout
    ):
        return os.path.dirname(parent)
    return parent


def update_results_table(args, table):
    """Adds this run's row to `results_<dataset>.csv/.md` (one row per
    model and configuration; msakeras.metrics.cross_model_results)."""
    from msakeras.metrics import cross_model_results

    flags = {
        key: value
        for key, value in sorted(vars(args).items())
        if key not in RUN_MANAGEMENT
        and isinstance(value, (str, int, float, bool, list, tuple, type(None)))
    }
    description = {
        "model": args.model_name,
        "data": os.path.basename(args.data),
        "hyperparameters": args.hyperparameters,
        "flags": flags,
    }
    changes = getattr(args, "preset_changes", {})
    row = cross_model_results.results_row(
        args.model_name,
        cross_model_results.configuration_id(description),
        table,
        info={
            "changes": ", ".join(f"{k}={v}" for k, v in changes.items()),
            "data": os.path.basename(args.data),
            "text_backbone": args.text_backbone or "bundled-minilm",
            "backend": keras.config.backend(),
            "output_dir": os.path.abspath(args.output_dir),
        },
    )
    paths = cross_model_results.update_results_table(
        results_directory(args), args.dataset, row
    )
    print(f"cross-model table: {paths[1]} (row {row['config']})")


def train_seeds(
    args, build_model, fit_kwargs=None, evaluate=None, prepare_training=None
):
    """Trains every seed: build, compile, fit, reload best, test once.

    A read-only or full output folder ends the run with one line
    (`SystemExit`); every checkpoint and record is written atomically, so
    nothing half-written is left and `--resume` continues from the last
    complete backup.

    Args:
        build_model: callable `(args) -> compiled msakeras model`.
        fit_kwargs: extra `fit` arguments.
        evaluate: callable `(args, directory, test) -> scores` or
            `-> (scores, extra)`, `extra` a dict of further `run.json`
            entries from the same test data; default `evaluate_checkpoint`
            (see `checkpoint_evaluator`). `test` is the `HeldOutTestData`
            of the one sealed read: nothing else opens the test split.
        prepare_training: optional callable `(args, model, train, seed) ->
            (train, extra_callbacks)`, run before `fit`: replaces the
            training dataset (e.g. a batch-augmenting wrapper) and adds
            callbacks after the standard ones. `None` fits on `train`
            as built by `make_datasets`.

    Returns:
        `{seed: test scores}` and the ridge baselines.
    """
    with atomic_files.disk_faults_exit(f"{args.model_name} run"):
        return _train_seeds(
            args, build_model, fit_kwargs, evaluate, prepare_training
        )


def _train_seeds(args, build_model, fit_kwargs, evaluate, prepare_training):
    print(
        f"backend: {keras.config.backend()}   data: {args.data} "
        f"({args.attributes.get('dataset')})   seeds: {args.seeds}"
    )
    experiment.git_state()  # the commit when training starts (cached)
    baselines = None
    setup = data_parallel(args)
    if setup.engine != "none":
        # The sequences shuffle themselves (seeded, the same in every
        # process); Keras's batch-order shuffle is left out so that every
        # process serves the same global batch at every step.
        fit_kwargs = {"shuffle": False, **(fit_kwargs or {})}
    scores_by_seed = {}
    try:  # released by the kernel when this process ends, even on SIGKILL
        if setup.is_chief:
            experiment.hold_run_lock(args.output_dir)
    except experiment.RunLockError as error:
        raise SystemExit(str(error)) from None
    for seed in args.seeds:
        if setup.is_chief:
            directory = run_directory(args, seed)
            check_resume_settings(args, directory)
        else:
            # Only process 0 keeps checkpoints and records; the others
            # write their callbacks' files beside, out of the way.
            directory = os.path.join(
                args.output_dir,
                f"process_{setup.process_index}",
                f"seed_{seed}",
            )
            os.makedirs(directory, exist_ok=True)
        record = run_record(directory) if args.resume else None
        trained = bool(record and record.get("validation_only"))
        if trained and getattr(args, "validation_only", False):
            print(f"seed {seed}: trained earlier (validation only), skipped")
            continue
        done = None if record is None else record.get("test")
        if done is not None:
            print(f"seed {seed}: finished earlier, skipped (--resume)")
            scores_by_seed[seed] = done
            continue
        if trained:
            # A search trial's checkpoint (--validation-only): no training,
            # its sealed selection opens the test split once below.
            baselines = seal_and_score(
                args, directory, seed, logged_history(directory, {}),
                record["wall_seconds"], record["train_steps_per_second"],
                evaluate, baselines, scores_by_seed,
            )  # fmt: skip
            continue
        keras.utils.set_random_seed(seed)
        with setup.scope():
            model = build_model(args)
        check_data_parallel(model, setup)
        compile_record = apply_jit_compile(args, model)
        train, valid, _ = make_datasets(args, model, seed)
        extra_callbacks = []
        original = train
        if prepare_training is not None:
            train, extra_callbacks = prepare_training(args, model, train, seed)
        start = time.time()
        datasets = [train] + ([original] if original is not train else [])
        try:
            history = model.fit(
                train,
                validation_data=valid,
                epochs=args.hyperparameters["epochs"],
                callbacks=callbacks(args, directory, datasets)
                + list(extra_callbacks),
                verbose=args.verbose,
                **(fit_kwargs or {}),
            )
        except msakeras.callbacks.NonFiniteLossError as error:
            raise SystemExit(f"seed {seed}: {error}") from error
        wall = time.time() - start
        epochs_run = max(1, len(history.history.get("loss", [])))
        steps_per_second = round(epochs_run * len(train) / wall, 3)
        baselines = seal_and_score(
            args, directory, seed, history.history, wall, steps_per_second,
            evaluate, baselines, scores_by_seed,
            compile_record=compile_record,
        )  # fmt: skip
    return scores_by_seed, baselines


def seal_and_score(
    args, directory, seed, history, wall, steps_per_second, evaluate,
    baselines, scores_by_seed, compile_record=None,
):  # fmt: skip
    """Seals the selection of a trained seed, then reads test once.

    With `--validation-only` the test split stays sealed: `run.json`
    records the selection (`validation_only: true`, `test: null`).
    `compile_record` (the `--compile` entry) goes into `run.json`.
    Returns the ridge baselines (made at the first test read).
    """
    compiled = {} if compile_record is None else {"compile": compile_record}
    # Selection is sealed before the test split can be read (once).
    sealed = selection_rule(args).seal(
        os.path.join(directory, "model.keras"),
        logged_history(directory, history),
    )
    if getattr(args, "validation_only", False):
        write_run_record(
            args, directory, seed, history, None, None, wall,
            steps_per_second, selection=sealed,
            extra={"validation_only": True, **compiled},
        )  # fmt: skip
        plot_curves(
            directory,
            selected_epoch=sealed.best_epoch + 1,
            title=curves_title(args, seed),
        )
        shutil.rmtree(os.path.join(directory, "backup"), ignore_errors=True)
        print(
            f"seed {seed}: selected epoch {sealed.best_epoch + 1}, "
            f"{sealed.rule.monitor} {sealed.best_value:.4f}; test sealed"
        )
        return baselines
    test_data = test_split(args).read(sealed)
    if baselines is None:
        baselines = ridge_baselines(args, test_data)
    scores = (evaluate or evaluate_checkpoint)(args, directory, test_data)
    extra = {}
    if isinstance(scores, tuple):
        scores, extra = scores
    extra = {**extra, **compiled}
    scores_by_seed[seed] = scores
    write_run_record(
        args,
        directory,
        seed,
        history,
        scores,
        baselines,
        wall,
        steps_per_second,
        selection=sealed,
        extra=extra,
    )
    plot_curves(
        directory,
        selected_epoch=sealed.best_epoch + 1,
        title=curves_title(args, seed),
    )
    shutil.rmtree(os.path.join(directory, "backup"), ignore_errors=True)
    epochs_run = len(logged_history(directory, history).get("loss", []))
    print(
        f"seed {seed}: {epochs_run} epochs in {wall:.0f} s; test "
        + ", ".join(f"{key} {value:.4f}" for key, value in scores.items())
    )
    return baselines


def curves_title(args, seed):
    """The title of a seed's `curves` plot (the selected epoch is marked)."""
    return (
        f"{args.model_name} on {args.dataset}, seed {seed}: "
        f"training curves (selected: best {selection_rule(args).monitor})"
    )


def test_split(args):
    """The sealed `HeldOutTestSplit` of `args.data` (nothing read yet)."""
    return experiment.HeldOutTestSplit(args.data, "test")


def logged_history(directory, history):
    """Every logged epoch (`history.csv`, across --resume), else `history`."""
    path = os.path.join(directory, "history.csv")
    if os.path.isfile(path):
        import pandas as pd

        logged = pd.read_csv(path)
        if not logged.empty:
            return {name: logged[name].tolist() for name in logged.columns}
    return history


# --- export ------------------------------------------------------------------
def best_validation_seed(args, seeds):
    """The seed whose `history.csv` has the lowest `val_mae` (validation),
    over the epochs the recipe's selection rule allows."""
    rule = selection_rule(args)
    best, best_value = None, None
    for seed in seeds:
        path = os.path.join(args.output_dir, f"seed_{seed}", "history.csv")
        if not os.path.isfile(path):
            continue
        import pandas as pd

        history = pd.read_csv(path)
        if "val_mae" not in history or history["val_mae"].isna().all():
            continue
        try:
            _, value = rule.best_epoch({"val_mae": history["val_mae"].tolist()})
        except experiment.SelectionError:
            continue
        if best_value is None or value < best_value:
            best, best_value = seed, value
    return best if best is not None else seeds[0]


def export_models(args, seeds):
    """`--export`: SavedModel (and/or ONNX) versions of the checkpoints.

    Writes `<export-dir>/<version>/` (default export dir: the parent of
    `--output-dir`, `saved_models/<model>_<dataset>`), one new integer
    version per exported seed; `runs/` beside them is skipped by TF Serving.
    `--export-format onnx` writes `<export-dir>/onnx/<version>/model.onnx`
    instead (`both`: both). Runs once per invocation (`write_results` calls
    it; a second call returns the first's records).
    """
    if not getattr(args, "export", None):
        return []
    if getattr(args, "exported", None) is not None:
        return args.exported
    from msakeras.export import export_onnx
    from msakeras.export import export_saved_model

    export_dir = args.export_dir or os.path.dirname(
        os.path.abspath(args.output_dir)
    )
    chosen = (
        list(seeds)
        if args.export == "all"
        else [best_validation_seed(args, list(seeds))]
    )
    export_format = getattr(args, "export_format", "saved_model")
    targets = []
    if export_format in ("saved_model", "both"):
        targets.append(("serving_default", export_saved_model, export_dir))
    if export_format in ("onnx", "both"):
        onnx_dir = os.path.join(export_dir, "onnx")
        targets.append(("onnxruntime", export_onnx, onnx_dir))
    records = []
    for seed in chosen:
        path = os.path.join(args.output_dir, f"seed_{seed}", "model.keras")
        for runtime, export, directory in targets:
            record = export(path, directory)
            records.append(record)
            print(
                f"seed {seed}: exported {path} -> {record['path']} "
                f"({runtime} vs predict: max abs difference "
                f"{record['check']['max_abs_difference']:.3g})"
            )
    args.exported = records
    return records

"""The seed loop of a recipe run: build, fit, seal the selection, test once.

For each seed, `train_seeds` builds the recipe's compiled model, assembles
the datasets and standard callbacks, calls the recipe's `train` (which
shows its `model.fit`), seals the selected checkpoint, reads the test
split once and writes the seed's records.
"""

import gc
import os
import shutil
import time

import keras

from msakeras.callbacks import NonFiniteLossError
from msakeras.callbacks import atomic_files
from msakeras.experiment import run_callbacks
from msakeras.experiment.checkpoint_scoring import evaluate_checkpoint
from msakeras.experiment.checkpoint_scoring import ridge_baselines
from msakeras.experiment.device_settings import apply_jit_compile
from msakeras.experiment.run_data import check_data_parallel
from msakeras.experiment.run_data import data_parallel
from msakeras.experiment.run_data import make_datasets
from msakeras.experiment.run_data import test_split
from msakeras.experiment.run_lock import RunLockError
from msakeras.experiment.run_lock import hold_run_lock
from msakeras.experiment.run_receipt import git_state
from msakeras.experiment.run_records import check_resume_settings
from msakeras.experiment.run_records import curves_title
from msakeras.experiment.run_records import logged_history
from msakeras.experiment.run_records import plot_curves
from msakeras.experiment.run_records import run_directory
from msakeras.experiment.run_records import run_record
from msakeras.experiment.run_records import write_run_record


def fit(model, data, valid, callbacks, **options):
    """The default `train` of `train_seeds`: Keras's `fit`."""
    return model.fit(
        data, validation_data=valid, callbacks=callbacks, **options
    )


def train_seeds(
    run,
    build_model,
    train=None,
    fit_kwargs=None,
    evaluate=None,
    prepare_training=None,
):
    """Trains every seed: build, compile, fit, reload best, test once.

    A read-only or full output folder ends the run with one line
    (`SystemExit`); every checkpoint and record is written atomically, so
    nothing half-written is left and `--resume` continues from the last
    complete backup.

    Args:
        run: the run's `RunSettings` (`recipe_arguments.finish_args`).
        build_model: callable `(run) -> compiled msakeras model`.
        train: callable `(model, train_data, valid_data, callbacks,
            **fit_options) -> History`, one seed's training (the recipe's
            `model.fit`); default `fit`. `fit_options`: `epochs`,
            `verbose` and `fit_kwargs` (`shuffle=False` under
            `--distribute`).
        fit_kwargs: extra `fit` arguments.
        evaluate: callable `(run, directory, test) -> scores` or
            `-> (scores, extra)`, `extra` a dict of further `run.json`
            entries from the same test data; default `evaluate_checkpoint`
            (see `checkpoint_evaluator`). `test` is the `HeldOutTestData`
            of the one sealed read: nothing else opens the test split.
        prepare_training: optional callable `(run, model, train, seed) ->
            (train, extra_callbacks)`, run before `fit`: replaces the
            training dataset (e.g. a batch-augmenting wrapper) and adds
            callbacks after the standard ones. `None` fits on `train`
            as built by `make_datasets`.

    Returns:
        `{seed: test scores}` and the ridge baselines.
    """
    with atomic_files.disk_faults_exit(f"{run.model_name} run"):
        return _train_seeds(
            run, build_model, train, fit_kwargs, evaluate, prepare_training
        )


def _train_seeds(
    run, build_model, train_seed, fit_kwargs, evaluate, prepare_training
):
    print(
        f"backend: {keras.config.backend()}   data: {run.data} "
        f"({run.attributes.get('dataset')})   seeds: {run.seeds}"
    )
    git_state()  # the commit when training starts (cached)
    baselines = None
    setup = data_parallel(run)
    if setup.engine != "none":
        # The sequences shuffle themselves (seeded, the same in every
        # process); Keras's batch-order shuffle is left out so that every
        # process serves the same global batch at every step.
        fit_kwargs = {"shuffle": False, **(fit_kwargs or {})}
    scores_by_seed = {}
    try:  # released by the kernel when this process ends, even on SIGKILL
        if setup.is_chief:
            hold_run_lock(run.output_dir)
    except RunLockError as error:
        raise SystemExit(str(error)) from None
    for seed in run.seeds:
        if setup.is_chief:
            directory = run_directory(run, seed)
            check_resume_settings(run, directory)
        else:
            # Only process 0 keeps checkpoints and records; the others
            # write their callbacks' files beside, out of the way.
            directory = os.path.join(
                run.output_dir,
                f"process_{setup.process_index}",
                f"seed_{seed}",
            )
            os.makedirs(directory, exist_ok=True)
        record = run_record(directory) if run.resume else None
        trained = bool(record and record.get("validation_only"))
        if trained and run.validation_only:
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
                run, directory, seed, logged_history(directory, {}),
                record["wall_seconds"], record["train_steps_per_second"],
                evaluate, baselines, scores_by_seed,
            )  # fmt: skip
            continue
        keras.utils.set_random_seed(seed)
        with setup.scope():
            model = build_model(run)
        check_data_parallel(model, setup)
        compile_record = apply_jit_compile(run.compile, model)
        train, valid, _ = make_datasets(run, model, seed)
        extra_callbacks = []
        original = train
        if prepare_training is not None:
            train, extra_callbacks = prepare_training(run, model, train, seed)
        start = time.time()
        datasets = [train] + ([original] if original is not train else [])
        try:
            history = (train_seed or fit)(
                model,
                train,
                valid,
                run_callbacks.standard_callbacks(run, directory, datasets)
                + list(extra_callbacks),
                epochs=run.epochs,
                verbose=run.verbose,
                **(fit_kwargs or {}),
            )
        except NonFiniteLossError as error:
            raise SystemExit(f"seed {seed}: {error}") from error
        wall = time.time() - start
        logs = history.history
        epochs_run = max(1, len(logs.get("loss", [])))
        steps_per_second = round(epochs_run * len(train) / wall, 3)
        # The test split is scored on the selected checkpoint, reloaded from
        # disk: the trained model and its optimizer state go first, so the
        # two copies never sit in memory together (the run's peak RSS).
        del history, model, train, valid, original, datasets, extra_callbacks
        gc.collect()
        baselines = seal_and_score(
            run, directory, seed, logs, wall, steps_per_second,
            evaluate, baselines, scores_by_seed,
            compile_record=compile_record,
        )  # fmt: skip
    return scores_by_seed, baselines


def seal_and_score(
    run, directory, seed, history, wall, steps_per_second, evaluate,
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
    sealed = run_callbacks.selection_rule(run).seal(
        os.path.join(directory, "model.keras"),
        logged_history(directory, history),
    )
    if run.validation_only:
        write_run_record(
            run, directory, seed, history, None, None, wall,
            steps_per_second, selection=sealed,
            extra={"validation_only": True, **compiled},
        )  # fmt: skip
        plot_curves(
            directory,
            selected_epoch=sealed.best_epoch + 1,
            title=curves_title(run, seed),
        )
        shutil.rmtree(os.path.join(directory, "backup"), ignore_errors=True)
        print(
            f"seed {seed}: selected epoch {sealed.best_epoch + 1}, "
            f"{sealed.rule.monitor} {sealed.best_value:.4f}; test sealed"
        )
        return baselines
    test_data = test_split(run).read(sealed)
    if baselines is None:
        baselines = ridge_baselines(run, test_data)
    scores = (evaluate or evaluate_checkpoint)(run, directory, test_data)
    extra = {}
    if isinstance(scores, tuple):
        scores, extra = scores
    extra = {**extra, **compiled}
    scores_by_seed[seed] = scores
    write_run_record(
        run,
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
        title=curves_title(run, seed),
    )
    shutil.rmtree(os.path.join(directory, "backup"), ignore_errors=True)
    epochs_run = len(logged_history(directory, history).get("loss", []))
    print(
        f"seed {seed}: {epochs_run} epochs in {wall:.0f} s; test "
        + ", ".join(f"{key} {value:.4f}" for key, value in scores.items())
    )
    return baselines

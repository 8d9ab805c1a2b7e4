"""The search driver: Ray Tune over recipe runs, then one sealed test read.

`python -m msakeras.tune` (see `msakeras/tune/__main__.py`) calls
`run_search`. Layout of `--output-dir`:

    search.json            the search's settings (checked by --resume)
    configs/cNNN.json      configuration NNN (the recipe's --config)
    trials/cNNN_s<seed>/   one recipe run: seed_<seed>/{run.json,history.csv,
                           model.keras}, trial.log
    launches.jsonl         every recipe launch (trial, resumed or not)
    ray/                   Ray Tune's experiment state (Tuner.restore)
    leaderboard.csv/.md    every trial; configurations.csv ranked
    test.csv/.md, selection.json   the chosen configuration's sealed test read
"""

import json
import os
import subprocess

from msakeras.tune import leaderboard
from msakeras.tune import trial as trial_lib
from msakeras.tune.search_space import SearchSpace

MODELS = ("dashfusion", "hycon", "mcer", "mmim", "self_mi")
EXPERIMENT = "search"


def recipe_path(model):
    """`recipes/<model>.py` of this checkout, else the installed copy."""
    import msakeras

    package = os.path.dirname(os.path.abspath(msakeras.__file__))
    for folder in (
        os.path.join(os.path.dirname(package), "recipes"),
        os.path.join(package, "recipes"),
    ):
        path = os.path.join(folder, f"{model}.py")
        if os.path.isfile(path):
            return path
    raise SystemExit(f"No recipe for model {model!r} (looked for {model}.py).")


def hyperparameter_names(model):
    """The keys a `--config` of `model`'s recipe may set: those of the
    model's preset tables, every dataset
    (`msakeras/models/<model>/<model>_presets.py`, as the recipe reads them).
    """
    from msakeras.models import presets

    names = set()
    for table in presets.recipe_tables(model).values():
        names.update(table)
    return names


def _settings(args, space):
    return {
        "model": args.model,
        "data": args.data,
        "space": space.to_json(),
        "trials": args.trials,
        "seeds": list(args.seeds),
        "search_seed": args.search_seed,
        "recipe_args": list(args.recipe_args),
        "asha": bool(args.asha),
    }


def prepare(args):
    """Checks the space, records or checks `search.json`, writes configs.

    Returns `(context, configurations)`.
    """
    output_dir = os.path.abspath(args.output_dir)
    args.output_dir = output_dir
    if args.data is not None:
        if not os.path.isfile(args.data):
            raise SystemExit(f"--data {args.data!r}: no such file.")
        args.data = os.path.abspath(args.data)
    recipe = recipe_path(args.model)
    try:
        space = SearchSpace.from_yaml(args.space)
        space.check_names(hyperparameter_names(args.model), args.model)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    settings = _settings(args, space)
    settings_path = os.path.join(output_dir, "search.json")
    if os.path.isfile(settings_path):
        if not args.resume:
            raise SystemExit(
                f"{output_dir} already holds a search; pass --resume to "
                "continue it or choose another --output-dir."
            )
        saved = trial_lib.read_json(settings_path)
        changed = sorted(
            key for key in settings if saved.get(key) != settings[key]
        )
        if changed:
            raise SystemExit(
                f"--resume: {settings_path} was written with other "
                f"settings ({', '.join(changed)} differ); run the same "
                "command, or choose another --output-dir."
            )
        configurations = [
            trial_lib.read_json(trial_lib.config_file(output_dir, index))
            for index in range(args.trials)
        ]
    else:
        if args.resume and os.path.isdir(output_dir) and os.listdir(output_dir):
            raise SystemExit(
                f"--resume: {output_dir} holds no search.json to resume."
            )
        configurations = space.sample(args.trials, seed=args.search_seed)
        if len(configurations) < args.trials:
            print(
                f"the space is a grid of {len(configurations)} points: "
                f"{len(configurations)} configurations, not {args.trials}"
            )
            args.trials = len(configurations)
            settings["trials"] = args.trials
        os.makedirs(os.path.join(output_dir, "configs"), exist_ok=True)
        for index, configuration in enumerate(configurations):
            _write_json(trial_lib.config_file(output_dir, index), configuration)
        _write_json(settings_path, settings)
    context = {
        "recipe": recipe,
        "output_dir": output_dir,
        "data": args.data,
        "recipe_args": list(args.recipe_args),
    }
    return context, configurations


def _write_json(path, value):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=True)
    os.replace(temporary, path)


def _trial_name(trial):
    return trial_lib.trial_name(trial.config["config_id"], trial.config["seed"])


def start_ray(args):
    """Connects to `--address` / `RAY_ADDRESS`, else starts Ray in-process."""
    import ray

    address = args.address or os.environ.get("RAY_ADDRESS")
    if address:
        environment = {
            name: os.environ[name]
            for name in ("KERAS_BACKEND", "MSAKERAS_CACHE", "OMP_NUM_THREADS")
            if name in os.environ
        }
        ray.init(
            address=address,
            runtime_env={"env_vars": environment} if environment else None,
            log_to_driver=False,
        )
    else:
        ray.init(
            num_cpus=args.num_cpus,
            include_dashboard=False,
            log_to_driver=False,
        )
    return ray


def make_tuner(args, context, configurations):
    from ray import tune

    resources = {"cpu": args.cpus_per_trial}
    gpus = args.gpus_per_trial
    if gpus is None:
        import ray

        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    if gpus:
        resources["gpu"] = gpus
    trainable = tune.with_resources(
        tune.with_parameters(trial_lib.run_trial, context=context), resources
    )
    storage = os.path.join(context["output_dir"], "ray")
    experiment = os.path.join(storage, EXPERIMENT)
    if args.resume and tune.Tuner.can_restore(experiment):
        print(f"resuming the Ray Tune experiment in {experiment}")
        return tune.Tuner.restore(
            experiment,
            trainable,
            resume_unfinished=True,
            resume_errored=True,
        )
    scheduler = None
    if args.asha:
        from ray.tune.schedulers import ASHAScheduler

        scheduler = ASHAScheduler(
            time_attr="training_iteration",
            max_t=args.asha_max_epochs,
            grace_period=args.asha_grace_epochs,
            reduction_factor=args.asha_reduction_factor,
        )
    return tune.Tuner(
        trainable,
        param_space={
            "config_id": tune.grid_search(list(range(len(configurations)))),
            "seed": tune.grid_search(list(args.seeds)),
        },
        tune_config=tune.TuneConfig(
            metric="val_mae",
            mode="min",
            scheduler=scheduler,
            max_concurrent_trials=args.max_concurrent,
            trial_name_creator=_trial_name,
            trial_dirname_creator=_trial_name,
        ),
        run_config=tune.RunConfig(
            storage_path=storage,
            name=EXPERIMENT,
            failure_config=tune.FailureConfig(max_failures=args.max_failures),
            verbose=args.ray_verbose,
        ),
    )


def sealed_test_read(args, context, config_id):
    """Reads the test split once per seed for the chosen configuration.

    Runs the recipe with `--resume` (without `--validation-only`) over each
    trial's folder: no training; the recipe seals the trial's selected
    checkpoint (`SelectionRule.seal`) and opens the test split once
    (`HeldOutTestSplit.read`). Returns `{seed: test scores}`.
    """
    scores = {}
    for seed in args.seeds:
        command = trial_lib.recipe_command(
            context, config_id, seed, validation_only=False
        ) + ["--resume"]
        folder = trial_lib.trial_folder(context["output_dir"], config_id, seed)
        with open(
            os.path.join(folder, "test_read.log"), "a", encoding="utf-8"
        ) as log:
            result = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
        if result.returncode != 0:
            raise SystemExit(
                f"sealed test read of {trial_lib.trial_name(config_id, seed)}"
                f" failed ({result.returncode}); see "
                f"{os.path.join(folder, 'test_read.log')}."
            )
        record = trial_lib.read_json(
            os.path.join(folder, f"seed_{seed}", "run.json")
        )
        scores[seed] = record["test"]
    return scores


def write_test_read(args, configuration, config_id, ranked_row, scores):
    import pandas as pd

    table = pd.DataFrame.from_dict(scores, orient="index")
    table.index.name = "seed"
    summary = pd.concat(
        [
            table,
            table.mean().to_frame("mean").T,
            table.std(ddof=1).to_frame("std").T,
        ]
    )
    summary.to_csv(os.path.join(args.output_dir, "test.csv"))
    text = (
        f"# {args.model}: sealed test read of configuration {config_id}\n\n"
        f"Chosen on validation only (mean best val_mae "
        f"{ranked_row['mean_val_mae']:.4f} over seeds {list(args.seeds)}); "
        f"hyperparameters: `{json.dumps(configuration, sort_keys=True)}`.\n\n"
        + summary.to_markdown(floatfmt=".4f")
        + "\n"
    )
    with open(
        os.path.join(args.output_dir, "test.md"), "w", encoding="utf-8"
    ) as handle:
        handle.write(text)
    _write_json(
        os.path.join(args.output_dir, "selection.json"),
        {
            "config": config_id,
            "hyperparameters": configuration,
            "mean_val_mae": ranked_row["mean_val_mae"],
            "seeds": list(args.seeds),
            "test": {str(seed): value for seed, value in scores.items()},
            "rule": "rank by mean best validation MAE over seeds; the test "
            "split is read once per seed for the chosen configuration only",
        },
    )
    return text


def run_search(args):
    """The whole search; returns `(ranked configurations, test scores)`."""
    context, configurations = prepare(args)
    ray = start_ray(args)
    try:
        tuner = make_tuner(args, context, configurations)
        results = tuner.fit()
        errors = list(results.errors)
    finally:
        ray.shutdown()
    for error in errors:
        print(f"trial failed: {str(error).splitlines()[0][:300]}")
    rows = leaderboard.trial_rows(
        args.output_dir, configurations, list(args.seeds)
    )
    ranked = leaderboard.rank_configurations(
        rows, configurations, list(args.seeds)
    )
    print(
        leaderboard.write_leaderboard(
            args.output_dir, rows, ranked, f"{args.model} search"
        )
    )
    best = ranked[0]
    if not best["complete"]:
        raise SystemExit(
            "No configuration finished every seed; no test read. Rerun with "
            "--resume to finish the search."
        )
    config_id = best["config"]
    scores = sealed_test_read(args, context, config_id)
    print(
        write_test_read(
            args, configurations[config_id], config_id, best, scores
        )
    )
    return ranked, scores

"""A run's results: per-seed summary, baselines, the cross-model table.

`write_results` prints and writes `summary.csv/.md` (mean ± std over the
seeds' test scores), adds the run's row to `results_<dataset>.csv/.md`
and, with `--export`, exports the selected seed(s).
"""

import os

import keras

from msakeras import metrics
from msakeras.callbacks import atomic_files
from msakeras.experiment.best_seed_export import export_models
from msakeras.experiment.run_records import run_record


def write_results(run, scores_by_seed, baselines):
    """Prints and writes `summary.csv`/`summary.md` (mean ± std over seeds).

    Then, with `--export`, exports the selected seed(s) (`export_models`).
    With `--validation-only` there are no test scores: nothing to write.
    A read-only or full disk ends it with one line.
    """
    if run.validation_only:
        print(f"\n{run.model_name}: validation only, test split sealed")
        return None
    with atomic_files.disk_faults_exit(f"{run.model_name} results"):
        _write_results(run, scores_by_seed, baselines)


def _write_results(run, scores_by_seed, baselines):
    seeds = sorted(scores_by_seed)
    table = metrics.summarize_seeds(
        [scores_by_seed[seed] for seed in seeds], seeds=seeds
    )
    metrics.write_summary(table, run.output_dir)
    print(
        f"\n{run.model_name} on {run.data} ({run.dataset}), backend "
        f"{keras.config.backend()}: test scores of the selected "
        "checkpoints"
    )
    print(metrics.to_markdown(table))
    if baselines:
        import pandas as pd

        rows = {f"ridge_{name}": values for name, values in baselines.items()}
        rows[f"{run.model_name} (mean)"] = table.loc["mean"].to_dict()
        print("\nSingle-modality ridge baselines on the same test split:")
        print(metrics.to_markdown(pd.DataFrame(rows).T))
    update_results_table(run, table)
    export_models(run, seeds)  # --export, for every recipe
    return table


# Flags that manage a run without changing what is trained (left out of the
# configuration id of the cross-model table).
RUN_MANAGEMENT = frozenset(
    "data dataset seeds output_dir results_dir resume tensorboard verbose "
    "export export_dir export_format distribute config set embedded "
    "configuration_sources preset_changes attributes hyperparameters "
    "model_name epochs batch_size patience compile".split()
)


def results_directory(run):
    """`--results-dir`, else the folder above `<model>_<dataset>/runs`
    (saved_models), else the parent of `--output-dir`."""
    if run.results_dir:
        return run.results_dir
    output = os.path.abspath(run.output_dir)
    parent = os.path.dirname(output)
    default_layout = f"{run.model_name}_{run.dataset}"
    if os.path.basename(output) == "runs" and (
        os.path.basename(parent) == default_layout
    ):
        return os.path.dirname(parent)
    return parent


def update_results_table(run, table):
    """Adds this run's row to `results_<dataset>.csv/.md` (one row per
    model and configuration; msakeras.metrics.cross_model_results)."""
    from msakeras.metrics import cross_model_results

    flags = {
        key: value
        for key, value in sorted(run.record_arguments().items())
        if key not in RUN_MANAGEMENT
        and isinstance(value, (str, int, float, bool, list, tuple, type(None)))
    }
    description = {
        "model": run.model_name,
        "data": os.path.basename(run.data),
        "hyperparameters": dict(run.hyperparameters),
        "flags": flags,
    }
    changes = run.preset_changes
    row = cross_model_results.results_row(
        run.model_name,
        cross_model_results.configuration_id(description),
        table,
        info={
            "changes": ", ".join(f"{k}={v}" for k, v in changes.items()),
            "data": os.path.basename(run.data),
            "text_backbone": run.text_backbone or "bundled-minilm",
            "backend": keras.config.backend(),
            "output_dir": os.path.abspath(run.output_dir),
        },
    )
    paths = cross_model_results.update_results_table(
        results_directory(run), run.dataset, row
    )
    print(f"cross-model table: {paths[1]} (row {row['config']})")


def print_unimodal_scores(run):
    """Prints each seed's unimodal head scores from its `run.json`.

    They are computed in the one sealed test read (`checkpoint_scoring.
    checkpoint_evaluator(unimodal_heads=...)`), stored as `unimodal_test`;
    this only reports them (SIMS-shaped files; `None` elsewhere).
    """
    for seed in run.seeds:
        record = run_record(os.path.join(run.output_dir, f"seed_{seed}"))
        scores = (record or {}).get("unimodal_test")
        if not scores:
            continue
        print(f"\nseed {seed}: unimodal heads vs human unimodal labels")
        for modality, values in scores.items():
            print(
                f"  {modality}: MAE {values['MAE']:.4f}, "
                f"Corr {values['Corr']:.4f}"
            )

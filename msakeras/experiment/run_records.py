"""A seed's folder and records: `run.json`, resume checks, curves.

`<output-dir>/seed_<seed>/` holds `model.keras` (the selected checkpoint),
`history.csv`, `run.json` (receipt, arguments, sealed selection, test
scores) and `curves.png/.pdf`; a finished `run.json` makes `--resume`
skip the seed.
"""

import json
import os

import numpy as np

from msakeras.experiment.resume_settings import check_or_record
from msakeras.experiment.resume_settings import run_settings
from msakeras.experiment.run_callbacks import SELECTION
from msakeras.experiment.run_callbacks import selection_rule
from msakeras.experiment.run_receipt import library_versions
from msakeras.experiment.run_receipt import run_receipt


def run_directory(run, seed):
    """`<output-dir>/seed_<seed>`; refuses to reuse one without --resume."""
    directory = os.path.join(run.output_dir, f"seed_{seed}")
    if os.path.isdir(directory) and os.listdir(directory) and not run.resume:
        raise SystemExit(
            f"{directory} already holds a run; pass --resume to continue it "
            "or choose another --output-dir."
        )
    os.makedirs(directory, exist_ok=True)
    return directory


def check_resume_settings(run, directory):
    """Records the run's data hash and settings; --resume must match."""
    settings = run_settings(
        run.data,
        run.model_name,
        run.dataset,
        dict(run.hyperparameters),
        {"max_train_samples": run.max_train_samples},
    )
    try:
        check_or_record(directory, settings, run.resume)
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


def versions():
    return library_versions()


def write_run_record(
    run,
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
    arguments (`RunSettings.record_arguments` and the data-parallel
    setup), the sealed selection, the test scores and `extra` (further
    results of the same test read, e.g. `unimodal_test`)."""
    from msakeras.experiment.run_data import data_parallel

    receipt = run_receipt(
        run.data,
        seed,
        run.hyperparameters,
        selection,
        dataset=run.attributes.get("dataset"),
    )
    record = {
        "model": run.model_name,
        **receipt,
        "arguments": {
            **run.record_arguments(),
            "data_parallel_setup": data_parallel(run),
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


def curves_title(run, seed):
    """The title of a seed's `curves` plot (the selected epoch is marked)."""
    return (
        f"{run.model_name} on {run.dataset}, seed {seed}: "
        f"training curves (selected: best {selection_rule(run).monitor})"
    )


def logged_history(directory, history):
    """Every logged epoch (`history.csv`, across --resume), else `history`."""
    path = os.path.join(directory, "history.csv")
    if os.path.isfile(path):
        import pandas as pd

        logged = pd.read_csv(path)
        if not logged.empty:
            return {name: logged[name].tolist() for name in logged.columns}
    return history

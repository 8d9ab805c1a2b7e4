"""`--export`: the best validation seed's checkpoint as a served model.

The export itself (SavedModel, ONNX) runs in `msakeras.export`; this picks
the seed(s) and the target folders.
"""

import os

from msakeras.experiment.run_callbacks import selection_rule
from msakeras.experiment.selection_rule import SelectionError

# This process's exports, by run folder, seeds and targets: a second
# `export_models` of the same run returns the first's records.
_EXPORTED = {}


def best_validation_seed(run, seeds):
    """The seed whose `history.csv` has the lowest `val_mae` (validation),
    over the epochs the recipe's selection rule allows."""
    rule = selection_rule(run)
    best, best_value = None, None
    for seed in seeds:
        path = os.path.join(run.output_dir, f"seed_{seed}", "history.csv")
        if not os.path.isfile(path):
            continue
        import pandas as pd

        history = pd.read_csv(path)
        if "val_mae" not in history or history["val_mae"].isna().all():
            continue
        try:
            _, value = rule.best_epoch({"val_mae": history["val_mae"].tolist()})
        except SelectionError:
            continue
        if best_value is None or value < best_value:
            best, best_value = seed, value
    return best if best is not None else seeds[0]


def export_models(run, seeds):
    """`--export`: SavedModel (and/or ONNX) versions of the checkpoints.

    Writes `<export-dir>/<version>/` (default export dir: the parent of
    `--output-dir`, `saved_models/<model>_<dataset>`), one new integer
    version per exported seed; `runs/` beside them is skipped by TF Serving.
    `--export-format onnx` writes `<export-dir>/onnx/<version>/model.onnx`
    instead (`both`: both). `run`: the run's `RunSettings`. Runs once per
    invocation (`write_results` calls
    it; a second call returns the first's records).
    """
    if not run.export:
        return []
    key = (
        os.path.abspath(run.output_dir),
        tuple(seeds),
        run.export,
        run.export_dir,
        run.export_format,
    )
    if key in _EXPORTED:
        return _EXPORTED[key]
    from msakeras.export import export_onnx
    from msakeras.export import export_saved_model

    export_dir = run.export_dir or os.path.dirname(
        os.path.abspath(run.output_dir)
    )
    chosen = (
        list(seeds)
        if run.export == "all"
        else [best_validation_seed(run, list(seeds))]
    )
    export_format = run.export_format
    targets = []
    if export_format in ("saved_model", "both"):
        targets.append(("serving_default", export_saved_model, export_dir))
    if export_format in ("onnx", "both"):
        onnx_dir = os.path.join(export_dir, "onnx")
        targets.append(("onnxruntime", export_onnx, onnx_dir))
    records = []
    for seed in chosen:
        path = os.path.join(run.output_dir, f"seed_{seed}", "model.keras")
        for runtime, export, directory in targets:
            record = export(path, directory)
            records.append(record)
            print(
                f"seed {seed}: exported {path} -> {record['path']} "
                f"({runtime} vs predict: max abs difference "
                f"{record['check']['max_abs_difference']:.3g})"
            )
    _EXPORTED[key] = records
    return records

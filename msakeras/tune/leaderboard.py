"""The leaderboard of a search: every trial, and configurations ranked on
validation only (mean best `val_mae` over seeds)."""

import math
import os

import numpy as np

from msakeras.tune import trial as trial_lib


def trial_rows(output_dir, configurations, seeds):
    """One dict per trial: configuration, seed, status, validation scores.

    `status`: `done` (the run's `run.json` exists), `stopped` (epochs
    logged, no receipt: ASHA stopped it or it failed), `pending`.
    """
    rows = []
    for config_id, configuration in enumerate(configurations):
        for seed in seeds:
            folder = trial_lib.trial_folder(output_dir, config_id, seed)
            run_dir = os.path.join(folder, f"seed_{seed}")
            record = trial_lib.read_json(os.path.join(run_dir, "run.json"))
            history = trial_lib.read_history(
                os.path.join(run_dir, "history.csv")
            )
            values = [float(row.get("val_mae") or "nan") for row in history]
            finite = [value for value in values if np.isfinite(value)]
            row = {
                "trial": trial_lib.trial_name(config_id, seed),
                "config": config_id,
                "seed": seed,
                "status": "pending",
                "epochs": len(history),
                "best_epoch": None,
                "best_val_mae": min(finite) if finite else None,
            }
            if record is not None:
                selection = record.get("selection") or {}
                row["status"] = "done"
                row["best_epoch"] = selection.get("best_epoch")
                row["best_val_mae"] = selection.get("best_value")
            elif history:
                row["status"] = "stopped"
                if finite:
                    row["best_epoch"] = values.index(min(finite)) + 1
            row.update(configuration)
            rows.append(row)
    return rows


def rank_configurations(rows, configurations, seeds):
    """Configurations by mean best `val_mae` over seeds, complete first.

    A configuration is complete when every seed's trial is `done`; one
    with a stopped or pending seed ranks after every complete one (its
    mean is over the seeds it has).
    """
    ranked = []
    for config_id, configuration in enumerate(configurations):
        mine = [row for row in rows if row["config"] == config_id]
        values = [
            row["best_val_mae"]
            for row in mine
            if row["best_val_mae"] is not None
        ]
        done = sum(row["status"] == "done" for row in mine)
        ranked.append(
            {
                "config": config_id,
                "seeds_done": f"{done}/{len(seeds)}",
                "complete": done == len(seeds),
                "mean_val_mae": float(np.mean(values)) if values else None,
                "std_val_mae": float(np.std(values, ddof=1))
                if len(values) > 1
                else None,
                **configuration,
            }
        )
    ranked.sort(
        key=lambda row: (
            not row["complete"],
            row["mean_val_mae"] is None,
            row["mean_val_mae"] or 0.0,
            row["config"],
        )
    )
    for rank, row in enumerate(ranked, 1):
        row["rank"] = rank
    return ranked


# Scores are printed with four decimals; every other number (the
# hyperparameters, epochs) as given, so a learning rate of 5e-05 does not
# read 0.0001 and an epoch does not read 2.0000.
SCORE_COLUMNS = ("mean_val_mae", "std_val_mae", "best_val_mae")


def _cell(column, value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in SCORE_COLUMNS:
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _markdown(records, columns):
    import pandas as pd

    shown = pd.DataFrame(
        [
            [_cell(column, record.get(column)) for column in columns]
            for record in records
        ],
        columns=columns,
    )
    return shown.to_markdown(index=False, disable_numparse=True)


def write_leaderboard(output_dir, rows, ranked, title):
    """`leaderboard.csv` (every trial), `configurations.csv` (ranked) and
    `leaderboard.md` (both); returns the markdown."""
    import pandas as pd

    trials = pd.DataFrame(rows)
    configurations = pd.DataFrame(ranked).set_index("rank")
    trials.to_csv(os.path.join(output_dir, "leaderboard.csv"), index=False)
    configurations.to_csv(os.path.join(output_dir, "configurations.csv"))
    text = (
        f"# {title}\n\nConfigurations ranked by mean best validation MAE "
        "over seeds (the test split is not read by any trial).\n\n"
        + _markdown(ranked, ["rank", *configurations.columns])
        + "\n\n## Trials\n\n"
        + _markdown(rows, list(trials.columns))
        + "\n"
    )
    with open(
        os.path.join(output_dir, "leaderboard.md"), "w", encoding="utf-8"
    ) as handle:
        handle.write(text)
    return text

"""The cross-model results table of a dataset: one row per model and
configuration, `results_<dataset>.csv` and `results_<dataset>.md`.

Every recipe run adds (or replaces) its row when it finishes: a run of the
same model with the same configuration on the same data file updates its
row (e.g. after more seeds), any other configuration gets a row of its own.
Several recipes may finish at once: the update holds a lock file
(`results_<dataset>.csv.lock`, POSIX `fcntl`) around read-modify-write, and
each file is replaced atomically (`os.replace`), so a reader sees the old or
the new table, never half of one.

The CSV keeps fractions (`<metric>_mean`, `<metric>_std`, std = `np.std`,
ddof 0); the Markdown file prints MMSA's convention (mean ± std ×100).
"""

import contextlib
import hashlib
import json
import os
import time

import numpy as np
import pandas as pd

KEY_COLUMNS = ("model", "config")
INFO_COLUMNS = (
    "model",
    "config",
    "changes",
    "data",
    "text_backbone",
    "backend",
    "seeds",
    "n_seeds",
    "output_dir",
    "updated",
)


def configuration_id(description):
    """An 8-hex-digit id of a JSON-able configuration description."""
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


@contextlib.contextmanager
def _locked(path):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_text(path, text):
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def results_row(model, config, per_seed, info=None):
    """One row: `model`, `config`, `info` and `<metric>_mean/_std`.

    Args:
        model: str. The model's name.
        config: str. The configuration id (`configuration_id`).
        per_seed: `pandas.DataFrame`, one row per seed (fractions), e.g.
            `summarize_seeds(...)` (its `mean`/`std` rows are dropped).
        info: optional dict of further columns (`INFO_COLUMNS`).
    """
    per_seed = per_seed.drop(index=["mean", "std"], errors="ignore")
    row = {"model": model, "config": config, **(info or {})}
    row["n_seeds"] = len(per_seed)
    row["seeds"] = " ".join(str(seed) for seed in per_seed.index)
    values = per_seed.to_numpy(dtype=np.float64)
    for index, name in enumerate(per_seed.columns):
        column = values[:, index]
        column = column[~np.isnan(column)]
        row[f"{name}_mean"] = float(np.mean(column)) if column.size else None
        row[f"{name}_std"] = float(np.std(column)) if column.size else None
    return row


def update_results_table(directory, dataset, row):
    """Adds or replaces `row` (keyed by model and config) in
    `<directory>/results_<dataset>.csv` and rewrites the `.md`.

    Returns:
        `(csv_path, markdown_path)`.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    csv_path = os.path.join(directory, f"results_{dataset}.csv")
    markdown_path = os.path.join(directory, f"results_{dataset}.md")
    row = {"updated": time.strftime("%Y-%m-%d %H:%M:%S"), **row}
    with _locked(csv_path + ".lock"):
        if os.path.isfile(csv_path) and os.path.getsize(csv_path):
            table = pd.read_csv(csv_path, dtype={"config": str, "seeds": str})
        else:
            table = pd.DataFrame(columns=list(KEY_COLUMNS))
        same = (table["model"] == row["model"]) & (
            table["config"] == row["config"]
        )
        rows = table[~same].to_dict("records") + [row]
        table = pd.DataFrame(rows)
        info = [c for c in INFO_COLUMNS if c in table.columns]
        table = table[info + [c for c in table.columns if c not in info]]
        table = table.sort_values(list(KEY_COLUMNS), kind="stable")
        _replace_text(csv_path, table.to_csv(index=False))
        _replace_text(markdown_path, results_markdown(table, dataset))
    return csv_path, markdown_path


def results_markdown(table, dataset, digits=2):
    """The Markdown rendering: one row per model and configuration,
    metrics as `mean ± std` ×100 (MMSA's convention)."""
    metrics = [
        column[: -len("_mean")]
        for column in table.columns
        if column.endswith("_mean")
    ]
    shown = []
    for _, record in table.iterrows():
        line = {
            "model": record["model"],
            "config": record["config"],
            "seeds": int(record["n_seeds"]),
        }
        for name in ("changes", "text_backbone"):
            if name in record and isinstance(record[name], str):
                line[name] = record[name]
        for metric in metrics:
            mean, std = record[f"{metric}_mean"], record.get(f"{metric}_std")
            if mean is None or pd.isna(mean):
                line[metric] = "–"
            else:
                std = 0.0 if std is None or pd.isna(std) else std
                line[metric] = (
                    f"{mean * 100:.{digits}f} ± {std * 100:.{digits}f}"
                )
        shown.append(line)
    header = (
        f"# Results on {dataset}: one row per model and configuration\n\n"
        "mean ± std over seeds, ×100 (MMSA's convention: std = np.std, "
        f"ddof 0); fractions in results_{dataset}.csv; `config` identifies "
        "the effective configuration (`changes`: the keys that differ from "
        "the model's preset), each run's run.json has all of it.\n\n"
    )
    return header + pd.DataFrame(shown).to_markdown(index=False) + "\n"

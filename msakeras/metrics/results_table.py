"""Per-seed result tables: a row per seed plus mean and std."""

import os

import numpy as np
import pandas as pd


def summarize_seeds(scores, seeds=None, ddof=1):
    """Tabulates per-seed scores with `mean` and `std` rows.

    Args:
        scores: list of dicts. One `sentiment_scores` dict per seed.
        seeds: list or None. Row labels; must match `scores` in length.
            Defaults to `None`: `0, 1, ...`.
        ddof: int. Delta degrees of freedom of `std`; the default 1 is the
            sample standard deviation. Defaults to `1`. With a single
            seed there is no `std` row (it would be NaN).

    Returns:
        A `pandas.DataFrame` indexed by `seed` (seeds as strings, then
        `"mean"` and, from two seeds on, `"std"`), one column per metric
        key in first-seen order; a key missing for a seed is NaN and
        ignored by mean/std.

    Example:

    ```python
    table = msakeras.metrics.summarize_seeds(
        [scores_1111, scores_1112], seeds=[1111, 1112])
    print(msakeras.metrics.to_markdown(table))
    ```
    """
    scores = list(scores)
    if not scores:
        raise ValueError("`scores` is empty: give one dict per seed.")
    if seeds is None:
        seeds = list(range(len(scores)))
    seeds = list(seeds)
    if len(seeds) != len(scores):
        raise ValueError(
            f"Got {len(scores)} score dicts but {len(seeds)} seeds ({seeds})."
        )
    columns = []
    for row in scores:
        if not isinstance(row, dict):
            raise ValueError(
                f"Each score entry must be a dict, got {type(row).__name__}."
            )
        columns.extend(key for key in row if key not in columns)
    values = np.asarray(
        [[row.get(key, np.nan) for key in columns] for row in scores],
        dtype=np.float64,
    )
    table = pd.DataFrame(values, columns=columns, index=[str(s) for s in seeds])
    rows, names = [table.mean(axis=0)], ["mean"]
    if len(scores) > 1:
        rows.append(table.std(axis=0, ddof=ddof))
        names.append("std")
    summary = pd.DataFrame(rows, index=names)
    table = pd.concat([table, summary])
    table.index.name = "seed"
    return table


def to_markdown(table, digits=4):
    """A GitHub-flavoured Markdown rendering of a results table.

    Args:
        table: `pandas.DataFrame`. Usually from `summarize_seeds`.
        digits: int. Decimals printed. Defaults to `4`.

    Returns:
        The Markdown table as a string.
    """
    return table.to_markdown(floatfmt=f".{int(digits)}f")


MMSA_HEADER = (
    "mean ± std over {n} seed(s), ×100 (MMSA's convention: every metric in "
    "percent, std = np.std, i.e. population, ddof 0); fractions per seed "
    "in {stem}.csv and run.json"
)


def mmsa_table(table, digits=2):
    """MMSA's seed summary: `mean ± np.std`, both ×100, per metric.

    MMSA (thuiar/MMSA `run.py`) reports `round(np.mean(v) * 100, 2)` and
    `round(np.std(v) * 100, 2)` over the seeds for every metric (MAE and
    Corr included).

    Args:
        table: `pandas.DataFrame` from `summarize_seeds`.
        digits: int. Decimals. Defaults to `2`.

    Returns:
        A one-row `pandas.DataFrame` (index `"mean ± std (×100)"`) of
        strings such as `"70.00 ± 1.00"`.
    """
    per_seed = table.drop(index=["mean", "std"], errors="ignore")
    mean = per_seed.mean(axis=0) * 100
    std = per_seed.std(axis=0, ddof=0) * 100
    row = {
        key: f"{mean[key]:.{digits}f} ± {std[key]:.{digits}f}"
        for key in per_seed.columns
    }
    return pd.DataFrame([row], index=["mean ± std (×100)"])


def write_summary(table, directory, stem="summary", digits=4):
    """Writes `<stem>.csv` and `<stem>.md` of a results table.

    `<stem>.md` starts with MMSA's convention (`mmsa_table`, the header
    line says so), then the per-seed fractions; the CSV keeps the
    fractions at full precision.

    Args:
        table: `pandas.DataFrame`. Usually from `summarize_seeds`.
        directory: str or path-like. Output folder (created if needed).
        stem: str. File name without extension. Defaults to `"summary"`.
        digits: int. Decimals in the Markdown file (the CSV keeps full
            precision). Defaults to `4`.

    Returns:
        A tuple `(csv_path, markdown_path)`.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    csv_path = os.path.join(directory, f"{stem}.csv")
    markdown_path = os.path.join(directory, f"{stem}.md")
    table.to_csv(csv_path)
    seeds = len(table.drop(index=["mean", "std"], errors="ignore"))
    with open(markdown_path, "w", encoding="utf-8") as file:
        file.write(MMSA_HEADER.format(n=seeds, stem=stem) + "\n\n")
        file.write(mmsa_table(table).to_markdown() + "\n\n")
        file.write("per seed (fractions):\n\n")
        file.write(to_markdown(table, digits=digits) + "\n")
    return csv_path, markdown_path

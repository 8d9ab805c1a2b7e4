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
            sample standard deviation (NaN for a single seed). Defaults to
            `1`.

    Returns:
        A `pandas.DataFrame` indexed by `seed` (seeds as strings, then
        `"mean"` and `"std"`), one column per metric key in first-seen
        order; a key missing for a seed is NaN and ignored by mean/std.

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
    summary = pd.DataFrame(
        [table.mean(axis=0), table.std(axis=0, ddof=ddof)],
        index=["mean", "std"],
    )
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


def write_summary(table, directory, stem="summary", digits=4):
    """Writes `<stem>.csv` and `<stem>.md` of a results table.

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
    with open(markdown_path, "w", encoding="utf-8") as file:
        file.write(to_markdown(table, digits=digits) + "\n")
    return csv_path, markdown_path

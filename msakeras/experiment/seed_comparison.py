"""Two runs side by side: mean ± std over seeds and paired tests.

A "run" is a recipe `--output-dir`: one `seed_<seed>/run.json` per seed
holding the test scores under `"test"`. Seeds present in both runs form
the pairs (same seed: same data order and initial draws where the models
agree), compared with scipy's paired t-test (`scipy.stats.ttest_rel`) and
Wilcoxon signed-rank test (`scipy.stats.wilcoxon`), both two-sided.
"""

import glob
import json
import math
import os
import warnings

import numpy as np
import pandas as pd


def load_run_scores(run_directory, key="test"):
    """`{seed: scores}` from every `seed_*/run.json` under a run folder.

    Args:
        run_directory: str. A recipe `--output-dir`, or one seed folder.
        key: str. The record holding the scores. Defaults to `"test"`.

    Returns:
        A dict mapping int seeds to `{metric: float}` dicts.
    """
    run_directory = os.fspath(run_directory)
    paths = sorted(glob.glob(os.path.join(run_directory, "seed_*", "run.json")))
    if not paths and os.path.isfile(os.path.join(run_directory, "run.json")):
        paths = [os.path.join(run_directory, "run.json")]
    if not paths:
        raise FileNotFoundError(
            f"'{run_directory}' holds no seed_*/run.json: pass a recipe's "
            "--output-dir."
        )
    scores = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if not isinstance(record.get(key), dict):
            raise ValueError(f"'{path}' has no {key!r} scores dict.")
        seed = record.get("seed")
        if seed is None:
            seed = os.path.basename(os.path.dirname(path))[len("seed_") :]
        scores[int(seed)] = {
            name: float(value)
            for name, value in record[key].items()
            if isinstance(value, (int, float))
        }
    return scores


def paired_statistics(first, second):
    """Paired t-test and Wilcoxon signed-rank test of `second - first`.

    Args:
        first: array `(n,)`. Scores of run A, one per seed.
        second: array `(n,)`. Scores of run B for the same seeds.

    Returns:
        dict with `n`, `mean_difference`, `t_statistic`, `t_p_value`,
        `wilcoxon_statistic`, `wilcoxon_p_value`; NaN where a test is
        undefined: fewer than 2 pairs, or every paired difference equal
        (zero variance: the t statistic would be +-inf with p = 0, which
        reads as significant but is not a test result).
    """
    from scipy import stats

    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(
            f"Paired scores need equal 1-D shapes, got {first.shape} and "
            f"{second.shape}."
        )
    differences = second - first
    result = {
        "n": int(first.size),
        "mean_difference": float(differences.mean())
        if first.size
        else math.nan,
        "t_statistic": math.nan,
        "t_p_value": math.nan,
        "wilcoxon_statistic": math.nan,
        "wilcoxon_p_value": math.nan,
    }
    if first.size < 2 or np.all(differences == differences[0]):
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t_test = stats.ttest_rel(second, first)
        wilcoxon = stats.wilcoxon(second, first)
    result.update(
        t_statistic=float(t_test.statistic),
        t_p_value=float(t_test.pvalue),
        wilcoxon_statistic=float(wilcoxon.statistic),
        wilcoxon_p_value=float(wilcoxon.pvalue),
    )
    return result


def compare_runs(scores_a, scores_b, names=("A", "B"), metrics=None):
    """One row per metric: both runs' mean ± std and the paired tests.

    Args:
        scores_a: dict `{seed: {metric: value}}` of run A.
        scores_b: the same for run B.
        names: two str. Column prefixes. Defaults to `("A", "B")`.
        metrics: list of str or None. Defaults to `None`: the metrics
            both runs report, in run A's order.

    Returns:
        A `pandas.DataFrame` indexed by metric with columns
        `<A> mean`, `<A> std`, `<A> seeds`, the same for B, `pairs`,
        `mean diff (B-A)`, `t`, `t p`, `t p (Holm)`, `Wilcoxon W`,
        `Wilcoxon p`, `Wilcoxon p (Holm)`. Std is the sample standard
        deviation (ddof 1). The Holm columns adjust each test's p-values
        across the metrics (`holm`). Warns (`UserWarning`) when fewer than
        `MIN_PAIRS` seeds are paired: the tests then have little power.
    """
    name_a, name_b = names
    if not scores_a or not scores_b:
        raise ValueError("Both runs need at least one seed's scores.")
    if metrics is None:
        first_seen = [k for row in scores_a.values() for k in row]
        in_b = {k for row in scores_b.values() for k in row}
        metrics = [k for k in dict.fromkeys(first_seen) if k in in_b]
    paired_seeds = sorted(set(scores_a) & set(scores_b))
    rows = {}
    for metric in metrics:
        values_a = [row[metric] for row in scores_a.values() if metric in row]
        values_b = [row[metric] for row in scores_b.values() if metric in row]
        seeds = [
            seed
            for seed in paired_seeds
            if metric in scores_a[seed] and metric in scores_b[seed]
        ]
        statistics = paired_statistics(
            [scores_a[seed][metric] for seed in seeds],
            [scores_b[seed][metric] for seed in seeds],
        )
        rows[metric] = {
            f"{name_a} mean": np.mean(values_a),
            f"{name_a} std": _std(values_a),
            f"{name_a} seeds": len(values_a),
            f"{name_b} mean": np.mean(values_b),
            f"{name_b} std": _std(values_b),
            f"{name_b} seeds": len(values_b),
            "pairs": statistics["n"],
            "mean diff (B-A)": statistics["mean_difference"],
            "t": statistics["t_statistic"],
            "t p": statistics["t_p_value"],
            "Wilcoxon W": statistics["wilcoxon_statistic"],
            "Wilcoxon p": statistics["wilcoxon_p_value"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "metric"
    for column in ("t p", "Wilcoxon p"):
        table.insert(
            list(table.columns).index(column) + 1,
            f"{column} (Holm)",
            holm(table[column].to_numpy(dtype=np.float64)),
        )
    if len(paired_seeds) < MIN_PAIRS:
        warnings.warn(
            f"Only {len(paired_seeds)} paired seeds (fewer than {MIN_PAIRS}): "
            "the paired tests have little power; run more seeds.",
            UserWarning,
            stacklevel=2,
        )
    return table


MIN_PAIRS = 5
"""Fewer paired seeds than this draws a warning from `compare_runs`."""


def holm(p_values):
    """Holm-Bonferroni step-down adjusted p-values (Holm 1979).

    With the m defined p-values sorted ascending p_(1) <= ... <= p_(m), the
    adjusted value is max_{j<=i} min(1, (m - j + 1) p_(j)), returned in the
    input order. NaN (undefined tests) stay NaN and do not count in m.
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(p_values, np.nan)
    defined = np.flatnonzero(~np.isnan(p_values))
    m = defined.size
    if m == 0:
        return adjusted
    order = defined[np.argsort(p_values[defined], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p_values[order])
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def mean_std_text(table, name, digits=4):
    """`"0.7000 ± 0.0100"` strings of one run's columns of `compare_runs`."""
    return [
        f"{mean:.{digits}f} ± {std:.{digits}f}"
        for mean, std in zip(table[f"{name} mean"], table[f"{name} std"])
    ]

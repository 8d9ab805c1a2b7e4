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
        `wilcoxon_statistic`, `wilcoxon_p_value` and `undefined` (why a
        statistic is missing, or `""`). A statistic that is undefined is
        NaN, never an infinity: the t statistic divides by the standard
        deviation of the differences, so fewer than 2 pairs or constant
        differences (two seeds that differ by the same amount) leave it
        undefined (scipy reports `t = ±inf, p = 0`, which reads as highly
        significant); all-zero differences leave both tests undefined.
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
        "undefined": "",
    }
    if first.size < 2:
        result["undefined"] = "fewer than 2 pairs"
        return result
    if not np.any(differences != 0):
        result["undefined"] = "all differences zero"
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        wilcoxon = stats.wilcoxon(second, first)
        result.update(
            wilcoxon_statistic=float(wilcoxon.statistic),
            wilcoxon_p_value=float(wilcoxon.pvalue),
        )
        # Equal up to rounding (0.65 - 0.70 and 0.75 - 0.80 differ in the
        # last bit): a t of 1e15 is as meaningless as an infinite one.
        if np.allclose(differences, differences[0], rtol=1e-9, atol=1e-12):
            result["undefined"] = "t: constant differences (zero variance)"
            return result
        t_test = stats.ttest_rel(second, first)
    result.update(
        t_statistic=float(t_test.statistic),
        t_p_value=float(t_test.pvalue),
    )
    return result


def holm_adjusted(p_values):
    """Holm-Bonferroni adjusted p-values (family-wise error across tests).

    With the `m` defined p-values sorted ascending, `p_(i)` becomes
    `max_{j <= i} min(1, (m - j + 1) p_(j))` (1-based `j`); NaN entries
    (undefined tests) stay NaN and do not count in `m`.

    Args:
        p_values: sequence of float.

    Returns:
        A float64 NumPy array of the adjusted p-values, in input order.
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p_values))
    order = defined[np.argsort(p_values[defined], kind="stable")]
    count = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


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
        `Wilcoxon p`, `Wilcoxon p (Holm)` and `undefined`. The Holm columns
        correct each test's p-values across the metrics of the table. Std is
        the sample standard deviation (ddof 1).
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
            "undefined": statistics["undefined"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if not table.empty:
        for column in ("t p", "Wilcoxon p"):
            table.insert(
                list(table.columns).index(column) + 1,
                f"{column} (Holm)",
                holm_adjusted(table[column].to_numpy()),
            )
    table.index.name = "metric"
    return table


FEW_PAIRS = 5
"""Below this many paired seeds the tests have little power: warn."""


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def mean_std_text(table, name, digits=4):
    """`"0.7000 ± 0.0100"` strings of one run's columns of `compare_runs`."""
    return [
        f"{mean:.{digits}f} ± {std:.{digits}f}"
        for mean, std in zip(table[f"{name} mean"], table[f"{name} std"])
    ]

"""Compare two recipe runs seed by seed.

    python -m msakeras.compare RUN_DIR_A RUN_DIR_B [--csv out.csv]
        [--markdown out.md] [--names mmim hycon]

Each RUN_DIR is a recipe `--output-dir` (`seed_<seed>/run.json`). Prints a
Markdown table: per metric, mean ± std over each run's seeds, then a paired
t-test and a Wilcoxon signed-rank test (scipy, two-sided) over the seeds
both runs have, with Holm-corrected p-values across the metrics. A
statistic that is undefined (constant differences, fewer than two pairs)
is left blank and named in the `undefined` column; fewer than five pairs
print a warning.
"""

import argparse
import os
import sys
import warnings

import numpy as np

from msakeras.cli import HelpFormatter


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.compare",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("run_a", help="first run folder (--output-dir)")
    parser.add_argument("run_b", help="second run folder (--output-dir)")
    parser.add_argument(
        "--names",
        nargs=2,
        default=None,
        help="labels of the runs (default: the folder names)",
    )
    parser.add_argument("--csv", default=None, help="write the table as CSV")
    parser.add_argument(
        "--markdown", default=None, help="write the table as Markdown"
    )
    parser.add_argument(
        "--digits", type=int, default=4, help="decimals printed"
    )
    args = parser.parse_args(argv)
    from msakeras.experiment import seed_comparison

    names = args.names or [
        _label(args.run_a, "A"),
        _label(args.run_b, "B"),
    ]
    if names[0] == names[1]:
        names = [f"{names[0]} (A)", f"{names[1]} (B)"]
    try:
        scores_a = seed_comparison.load_run_scores(args.run_a)
        scores_b = seed_comparison.load_run_scores(args.run_b)
    except (FileNotFoundError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        table = seed_comparison.compare_runs(scores_a, scores_b, names=names)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    shown = table.copy()
    statistics = ["t", "t p", "t p (Holm)", "Wilcoxon W", "Wilcoxon p"]
    statistics.append("Wilcoxon p (Holm)")
    for column in statistics:
        shown[column] = [
            "undefined" if np.isnan(value) else f"{value:.{args.digits}g}"
            for value in table[column]
        ]
    for name in names:
        shown.insert(
            list(shown.columns).index(f"{name} mean"),
            f"{name} mean ± std",
            seed_comparison.mean_std_text(table, name, args.digits),
        )
        shown = shown.drop(columns=[f"{name} mean", f"{name} std"])
    # Undefined statistics print blank, never "nan" or "inf".
    shown = shown.astype(object).where(shown.notna(), None)
    markdown = shown.to_markdown(floatfmt=f".{args.digits}g", missingval="")
    print(
        f"A = {names[0]} ({args.run_a}): seeds {sorted(scores_a)}\n"
        f"B = {names[1]} ({args.run_b}): seeds {sorted(scores_b)}\n"
        "paired tests over matching seeds (scipy ttest_rel, wilcoxon); "
        "(Holm): Holm-adjusted across the metrics; undefined: fewer than "
        "two pairs or constant paired differences\n"
    )
    pairs = int(table["pairs"].max()) if len(table) else 0
    if pairs < seed_comparison.FEW_PAIRS:
        print(
            f"warning: only {pairs} paired seed(s); with fewer than "
            f"{seed_comparison.FEW_PAIRS} pairs the tests have little "
            "power and a small p-value is not evidence of a difference.\n"
        )
    print(markdown)
    print(
        "\nHolm columns: p-values corrected across the "
        f"{len(table)} metrics (Holm-Bonferroni). Undefined statistics "
        "are blank (see the `undefined` column), never infinite."
    )
    if args.csv:
        table.to_csv(args.csv)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    return 0


def _label(path, fallback):
    parts = [p for p in os.path.normpath(path).split(os.sep) if p]
    if not parts:
        return fallback
    if parts[-1] == "runs" and len(parts) > 1:
        return parts[-2]
    return parts[-1]


if __name__ == "__main__":
    sys.exit(main())

"""`python -m msakeras.tune MODEL --space SPACE.yaml ...`: a hyperparameter
search and seed fan-out on Ray Tune (README, "Sweeps")."""

import argparse
import os
import shlex
import sys

from msakeras.tune.search import MODELS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m msakeras.tune",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", choices=MODELS)
    parser.add_argument(
        "--data",
        default=None,
        help="standard HDF5 file; default: the embedded synthetic set",
    )
    parser.add_argument(
        "--space", required=True, help="SPACE.yaml (msakeras/tune/spaces/)"
    )
    parser.add_argument(
        "--trials",
        type=int,
        required=True,
        help="configurations to sample; each runs once per seed",
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[1111, 1112, 1113]
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        help="default: saved_models/<model>_sweep",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="an existing Ray cluster (else RAY_ADDRESS, else Ray starts "
        "in this process); --output-dir must be on storage every node sees",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed search; finished trials are not rerun",
    )
    parser.add_argument(
        "--asha", action="store_true", help="ASHA early stopping on val_mae"
    )
    parser.add_argument("--asha-max-epochs", type=int, default=100)
    parser.add_argument("--asha-grace-epochs", type=int, default=1)
    parser.add_argument("--asha-reduction-factor", type=float, default=3)
    parser.add_argument(
        "--epochs", type=int, default=None, help="passed to every trial"
    )
    parser.add_argument(
        "--recipe-args",
        default="",
        help="further recipe flags for every trial, one string "
        '(e.g. "--text-backbone bert_base_en_uncased")',
    )
    parser.add_argument("--search-seed", type=int, default=0)
    parser.add_argument(
        "--max-failures",
        type=int,
        default=2,
        help="retries of a killed trial (from its checkpoint)",
    )
    parser.add_argument(
        "--max-concurrent", type=int, default=None, help="trials at once"
    )
    parser.add_argument("--cpus-per-trial", type=float, default=1)
    parser.add_argument(
        "--gpus-per-trial",
        type=float,
        default=None,
        help="default: 1 when the cluster has GPUs, else 0",
    )
    parser.add_argument(
        "--num-cpus",
        type=int,
        default=None,
        help="CPU slots of the in-process Ray (default: every core)",
    )
    parser.add_argument("--ray-verbose", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds has repeats: {args.seeds}")
    recipe_args = shlex.split(args.recipe_args)
    for flag in ("--seeds", "--output-dir", "--config", "--set", "--resume",
                 "--data", "--validation-only"):  # fmt: skip
        if flag in recipe_args:
            parser.error(f"--recipe-args may not set {flag} (the search does)")
    if args.epochs is not None:
        recipe_args += ["--epochs", str(args.epochs)]
    args.recipe_args = recipe_args
    if args.output_dir is None:
        args.output_dir = os.path.join("saved_models", f"{args.model}_sweep")
    return args


def main(argv=None):
    from msakeras.tune.search import run_search

    return run_search(parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])

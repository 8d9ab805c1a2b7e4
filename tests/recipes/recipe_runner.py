"""Runs a recipe as a user would: a subprocess on a tiny synthetic file."""

import json
import os
import subprocess
import sys

import keras

import msakeras
from msakeras.metrics import MOSI_KEYS

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
# The MMSA metric set of a MOSI/MOSEI file, in run.json's order.
MMSA_KEYS = list(MOSI_KEYS)
# tests/hooks/sitecustomize.py: test-only hooks a subprocess reads at start
# (MSAKERAS_TEST_KILL_AT=<epoch>,<batch> kills a recipe at that batch).
HOOKS = os.path.join(ROOT, "tests", "hooks")


def hooks_pythonpath(*folders):
    """`PYTHONPATH` for a test's subprocess: the test hooks, then
    `folders`, then the inherited path."""
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join(
        [HOOKS, *folders, *([inherited] if inherited else [])]
    )


def tiny_dataset(directory, dataset="mosi"):
    """A small synthetic file with short sequences (real vocabulary)."""
    path = os.path.join(directory, f"tiny_{dataset}.h5")
    msakeras.data.make_synthetic_dataset(
        path,
        dataset=dataset,
        num_train=32,
        num_valid=16,
        num_test=16,
        audio_steps=12,
        vision_steps=10,
    )
    return path


def run_recipe(name, *arguments, check=True, environment=None):
    environment = dict(
        os.environ,
        KERAS_BACKEND=keras.config.backend(),
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=hooks_pythonpath(),
        **(environment or {}),
    )
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "recipes", f"{name}.py"),
            *map(str, arguments),
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"recipes/{name}.py failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def read_run(output_dir, seed):
    with open(
        os.path.join(output_dir, f"seed_{seed}", "run.json"), encoding="utf-8"
    ) as handle:
        return json.load(handle)


def parse_recipe(recipe, directory, *flags, dataset="mosi", embedded=False):
    """`recipe.parse_args` (an imported recipe module) on a tiny file of
    `dataset`: a `--data` run, or, `embedded`, a run without `--data` whose
    embedded synthetic set is that file (the real one takes a while to
    make). Returns the resolved `args`."""
    from unittest import mock

    data = os.path.join(directory, f"tiny_{dataset}.h5")
    if not os.path.isfile(data):
        data = tiny_dataset(directory, dataset)
    if not embedded:
        return recipe.parse_args(["--data", data, *map(str, flags)])
    with mock.patch.object(
        msakeras.data, "ensure_synthetic_dataset", lambda name: data
    ):
        return recipe.parse_args(["--dataset", dataset, *map(str, flags)])

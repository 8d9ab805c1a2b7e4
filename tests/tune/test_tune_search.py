"""`python -m msakeras.tune` end to end on tiny data (Ray in-process).

Kept small for CI: 2 configurations x 1 seed, 1-2 epochs on the tiny
synthetic file, one trial at a time on 1 CPU slot.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

pytest.importorskip(
    "ray.tune", reason="Ray Tune is an optional extra: pip install .[tune]"
)

from tests.recipes import recipe_runner

pytestmark = [
    pytest.mark.large,
    pytest.mark.requires_backend("torch"),
]


def run_tune(*arguments, environment=None, popen=False):
    command = [sys.executable, "-m", "msakeras.tune", *map(str, arguments)]
    environment = dict(
        os.environ,
        KERAS_BACKEND=keras.config.backend(),
        OMP_NUM_THREADS="1",
        PYTHONPATH=recipe_runner.hooks_pythonpath(recipe_runner.ROOT),
        **(environment or {}),
    )
    if popen:
        return subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            cwd=recipe_runner.ROOT,
            start_new_session=True,
        )
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=environment,
        cwd=recipe_runner.ROOT,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def history(output, trial, seed):
    path = os.path.join(output, "trials", trial, f"seed_{seed}", "history.csv")
    with open(path) as handle:
        return list(csv.DictReader(handle))


def launches(output):
    with open(os.path.join(output, "launches.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def common_arguments(tmp_path, data, space, trials, seeds, output, epochs):
    return [
        "mmim",
        "--data",
        data,
        "--space",
        space,
        "--trials",
        trials,
        "--seeds",
        *seeds,
        "--epochs",
        epochs,
        "--output-dir",
        output,
        "--num-cpus",
        1,
        "--max-concurrent",
        1,
        "--ray-verbose",
        0,
    ]


def test_search_with_a_killed_trial_ranks_on_validation_and_reads_test_once(
    tmp_path,
):
    data = recipe_runner.tiny_dataset(str(tmp_path))
    space = tmp_path / "space.yaml"
    space.write_text(
        "model: mmim\nparameters:\n"
        "  learning_rate: {choice: [1.0e-4, 1.0e-2]}\n"
        "  batch_size: 16\n"
    )
    output = str(tmp_path / "sweep")
    seeds = [7]
    result = run_tune(
        *common_arguments(tmp_path, data, space, 2, seeds, output, 2),
        # c000_s7's recipe SIGKILLs itself in epoch 2 on its first launch.
        environment={"MSAKERAS_TUNE_TEST_KILL_FIRST": "c000_s7:1,0"},
    )
    trials = [f"c{c:03d}_s{s}" for c in range(2) for s in seeds]

    # The killed trial was relaunched once with --resume and continued
    # from its epoch-1 checkpoint: epochs 1 and 2 (history.csv counts
    # from 1) logged once each.
    launched = launches(output)
    assert sorted(entry["trial"] for entry in launched) == sorted(
        trials + ["c000_s7"]
    )
    retried = [e for e in launched if e["trial"] == "c000_s7"]
    assert [e["resume"] for e in retried] == [False, True]
    log = open(os.path.join(output, "trials", "c000_s7", "trial.log")).read()
    assert "killing at epoch 1" in log
    assert [row["epoch"] for row in history(output, "c000_s7", 7)] == ["1", "2"]

    # Ranking: mean over seeds of each trial's best val_mae (history.csv).
    means = []
    for config in range(2):
        best = [
            min(float(row["val_mae"]) for row in history(output, t, s))
            for t, s in ((f"c{config:03d}_s{s}", s) for s in seeds)
        ]
        means.append(np.mean(best))
    chosen = int(np.argmin(means))
    with open(os.path.join(output, "leaderboard.csv")) as handle:
        board = list(csv.DictReader(handle))
    assert sorted(row["trial"] for row in board) == sorted(trials)
    assert {row["status"] for row in board} == {"done"}
    with open(os.path.join(output, "configurations.csv")) as handle:
        ranked = list(csv.DictReader(handle))
    assert [int(row["config"]) for row in ranked] == list(np.argsort(means))
    np.testing.assert_allclose(
        [float(row["mean_val_mae"]) for row in ranked],
        np.sort(means),
        rtol=1e-6,
    )
    selection = read_json(os.path.join(output, "selection.json"))
    assert selection["config"] == chosen
    assert "sealed test read of configuration" in result.stdout

    # The test split was read for the chosen configuration only, once per
    # seed; every other trial's receipt has test sealed.
    for config in range(2):
        for seed in seeds:
            record = read_json(
                os.path.join(
                    output,
                    "trials",
                    f"c{config:03d}_s{seed}",
                    f"seed_{seed}",
                    "run.json",
                )
            )
            assert record["seed"] == seed
            assert record["hyperparameters"]["epochs"] == 2
            if config == chosen:
                assert set(record["test"]) >= {"MAE", "Corr", "Has0_acc_2"}
                assert selection["test"][str(seed)] == record["test"]
            else:
                assert record["test"] is None
                assert record["validation_only"] is True
    assert os.path.isfile(os.path.join(output, "test.md"))


def test_killed_search_resumes_without_rerunning_finished_trials(tmp_path):
    data = recipe_runner.tiny_dataset(str(tmp_path))
    space = tmp_path / "space.yaml"
    space.write_text(
        "model: mmim\nparameters:\n"
        "  learning_rate: {choice: [1.0e-4, 1.0e-2]}\n"
        "  batch_size: 16\n"
    )
    output = str(tmp_path / "sweep")
    arguments = common_arguments(tmp_path, data, space, 2, [7], output, 1)
    process = run_tune(*arguments, popen=True)
    receipts = []
    deadline = time.time() + 900
    while not receipts and process.poll() is None and time.time() < deadline:
        time.sleep(1)
        receipts = (
            [
                name
                for name in os.listdir(os.path.join(output, "trials"))
                if os.path.isfile(
                    os.path.join(output, "trials", name, "seed_7", "run.json")
                )
            ]
            if os.path.isdir(os.path.join(output, "trials"))
            else []
        )
    assert receipts, process.communicate()[0][-4000:]
    os.killpg(process.pid, signal.SIGKILL)  # the whole search, mid-way
    process.wait()
    assert not os.path.isfile(os.path.join(output, "selection.json"))
    finished = {
        name
        for name in os.listdir(os.path.join(output, "trials"))
        if os.path.isfile(
            os.path.join(output, "trials", name, "seed_7", "run.json")
        )
    }
    assert 1 <= len(finished) < 2
    before = launches(output)

    # Without --resume the folder is refused; with it the search finishes.
    refused = subprocess.run(
        [sys.executable, "-m", "msakeras.tune", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=recipe_runner.ROOT,
        env=dict(
            os.environ,
            PYTHONPATH=recipe_runner.hooks_pythonpath(recipe_runner.ROOT),
        ),
    )
    assert refused.returncode != 0 and "--resume" in refused.stderr
    run_tune(*arguments, "--resume")
    after = launches(output)
    assert after[: len(before)] == before
    relaunched = {entry["trial"] for entry in after[len(before) :]}
    assert not relaunched & finished
    assert relaunched | finished == {"c000_s7", "c001_s7"}
    selection = read_json(os.path.join(output, "selection.json"))
    assert set(selection["test"]) == {"7"}
    with open(os.path.join(output, "leaderboard.csv")) as handle:
        assert {row["status"] for row in csv.DictReader(handle)} == {"done"}

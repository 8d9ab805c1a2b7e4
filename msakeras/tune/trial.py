"""One search trial: a recipe subprocess for one configuration and seed.

Each trial runs `recipes/<model>.py --validation-only` in its own process
(its own Keras backend and RNG state) in `<output-dir>/trials/<trial>/`,
and reports every epoch's `val_mae` from the run's `history.csv` to Ray
Tune (for ASHA). A retried trial (Ray's `FailureConfig`) finds the folder
and passes `--resume`: the recipe continues from its last committed epoch
(`ResumableBackup`). A trial whose `run.json` exists finished earlier and
is reported from it without running anything (a resumed search).
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

LAUNCHES = "launches.jsonl"


def trial_name(config_id, seed):
    return f"c{int(config_id):03d}_s{int(seed)}"


def trial_folder(output_dir, config_id, seed):
    """The recipe's `--output-dir` of a trial; the run is `seed_<seed>/`."""
    return os.path.join(output_dir, "trials", trial_name(config_id, seed))


def config_file(output_dir, config_id):
    return os.path.join(output_dir, "configs", f"c{int(config_id):03d}.json")


def recipe_command(context, config_id, seed, validation_only=True):
    """The recipe command line of one trial (without `--resume`)."""
    command = [
        sys.executable,
        context["recipe"],
        "--seeds",
        str(seed),
        "--output-dir",
        trial_folder(context["output_dir"], config_id, seed),
        "--config",  # JSON is YAML: the recipe validates every key
        config_file(context["output_dir"], config_id),
        "--verbose",
        "2",
    ]
    if context.get("data"):
        command += ["--data", context["data"]]
    command += list(context.get("recipe_args") or [])
    if validation_only:
        command.append("--validation-only")
    return command


def read_history(path):
    """The complete rows of a `history.csv` (a row being written is left
    out)."""
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return list(csv.DictReader(lines))


def read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _die_with_parent():
    """Child side: SIGKILL when the trial's worker dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _metrics(row, best, epoch):
    value = float(row.get("val_mae", "nan") or "nan")
    best = value if best is None or value < best else best
    return {"val_mae": value, "best_val_mae": best, "epoch": epoch}, best


def run_trial(config, context):
    """The Ray Tune trainable: `config` holds `config_id` and `seed`."""
    from ray import tune

    config_id, seed = int(config["config_id"]), int(config["seed"])
    name = trial_name(config_id, seed)
    folder = trial_folder(context["output_dir"], config_id, seed)
    run_dir = os.path.join(folder, f"seed_{seed}")
    record = read_json(os.path.join(run_dir, "run.json"))
    if record is not None:  # finished earlier (resumed search)
        rows = read_history(os.path.join(run_dir, "history.csv"))
        best = None
        for epoch, row in enumerate(rows, 1):
            metrics, best = _metrics(row, best, epoch)
            tune.report(metrics)
        return
    resume = os.path.isdir(run_dir) and bool(os.listdir(run_dir))
    launches = os.path.join(context["output_dir"], LAUNCHES)
    with open(launches, "a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"trial": name, "resume": resume, "time": time.time()})
            + "\n"
        )
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    command = recipe_command(context, config_id, seed)
    if resume:
        command.append("--resume")
    os.makedirs(folder, exist_ok=True)
    log_path = os.path.join(folder, "trial.log")
    history_path = os.path.join(run_dir, "history.csv")
    reported, best = 0, None
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=folder,
            preexec_fn=_die_with_parent,
        )
        try:
            while True:
                finished = process.poll() is not None
                rows = read_history(history_path)
                for row in rows[reported:]:
                    reported += 1
                    metrics, best = _metrics(row, best, reported)
                    tune.report(metrics)
                if finished:
                    break
                time.sleep(1.0)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if process.returncode != 0:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            tail = handle.read()[-2000:]
        raise RuntimeError(
            f"trial {name}: recipe exited with {process.returncode} "
            f"(log {log_path}):\n{tail}"
        )


def _read_lines(path):
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def launches(output_dir):
    """The recipe launches of a search, one dict per launch."""
    return _read_lines(os.path.join(output_dir, LAUNCHES))

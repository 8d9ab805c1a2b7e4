"""What a `--resume` must agree on: the data file and the run's settings.

A fresh seed folder records `resume_settings.json` (data SHA-256, model,
dataset, batch size, hyperparameters, `--max-train-samples`) before
training starts; `--resume` compares the current run with it and refuses
with one line naming what changed, instead of mixing epochs from two data
files or failing later with a traceback.
"""

import json
import os

from msakeras.experiment.run_receipt import file_sha256

SETTINGS_NAME = "resume_settings.json"


def run_settings(data_path, model, dataset, hyperparameters, extra=None):
    """The settings a resumed run must share with the killed one."""
    settings = {
        "data_sha256": file_sha256(data_path),
        "model": model,
        "dataset": dataset,
        "hyperparameters": {
            key: value for key, value in sorted(hyperparameters.items())
        },
    }
    settings.update(extra or {})
    return json.loads(json.dumps(settings, default=str))


def _differences(saved, current, prefix=""):
    changed = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += _differences(old, new, f"{prefix}{key}.")
        elif old != new:
            changed.append(f"{prefix}{key} {old!r} -> {new!r}")
    return changed


def check_or_record(directory, settings, resume):
    """Records `settings` in a fresh folder; on resume, refuses a change.

    Args:
        directory: str. The seed's run folder.
        settings: dict from `run_settings`.
        resume: bool. Whether this run continues an earlier one.

    Raises:
        ValueError: on resume, when a recorded setting differs (one line
            naming every changed setting).
    """
    path = os.path.join(directory, SETTINGS_NAME)
    if resume and os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
        changed = _differences(saved, settings)
        if changed:
            raise ValueError(
                f"--resume of {directory}: the settings changed since the "
                f"run started ({'; '.join(changed)}); rerun with the "
                "original settings or choose another --output-dir."
            )
        return
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=2)
    os.replace(temporary, path)

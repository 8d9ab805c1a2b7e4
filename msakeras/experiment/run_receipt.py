"""The run receipt: what a `run.json` must hold to reproduce a run.

A receipt answers "which code, on which machine, with which libraries, on
which bytes of data, with which settings and which selection rule produced
these scores?". Recipes write it into every `run.json`
(`run_records.write_run_record`); `python -m msakeras.compare` reads it.
"""

import functools
import hashlib
import importlib.metadata
import os
import platform
import subprocess

import keras

RECEIPT_FIELDS = (
    "git",
    "backend",
    "device",
    "dtype_policy",
    "platform",
    "python",
    "versions",
    "seed",
    "data",
    "hyperparameters",
    "selection",
)
"""Keys every receipt holds (values may be `None` where unknown)."""

LIBRARIES = (
    "keras",
    "keras-hub",
    "tensorflow",
    "torch",
    "jax",
    "numpy",
    "scipy",
    "h5py",
    "pandas",
    "msakeras",
)


def file_sha256(path):
    """SHA-256 of a file's bytes, read in 1 MiB blocks (hex string)."""
    digest = hashlib.sha256()
    with open(os.fspath(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions(names=LIBRARIES):
    """`{distribution: version}` of the installed libraries among `names`."""
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


@functools.lru_cache(maxsize=None)
def git_state(directory=None):
    """The git commit of the code that runs, if it lives in a checkout.

    Asked once per process and folder (cached): a commit made while a
    long run trains does not change what its later seeds record.

    Args:
        directory: str or None. Where to ask git. Defaults to `None`: the
            folder of the imported `msakeras` package.

    Returns:
        `{"commit": sha, "dirty": bool}` (dirty: tracked files differ from
        the commit), or `None` when there is no git or no checkout.
    """
    if directory is None:
        directory = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*arguments):
        return subprocess.run(
            ["git", "-C", directory, *arguments],
            capture_output=True,
            text=True,
            timeout=20,
        )

    try:
        commit = git("rev-parse", "HEAD")
        if commit.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {
        "commit": commit.stdout.strip(),
        "dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None,
    }  # callers must not mutate the cached dict: run_receipt copies it


def run_receipt(
    data_path,
    seed,
    hyperparameters,
    selection,
    dataset=None,
    code_directory=None,
):
    """The receipt of one training run, as a JSON-ready dict.

    Args:
        data_path: str or path-like. The data file trained and tested on;
            its SHA-256 is recorded, so a changed file gives another hash.
        seed: int. The run's seed (`keras.utils.set_random_seed`).
        hyperparameters: dict. Every setting the run used.
        selection: `SelectionRule` or dict. The model-selection rule
            (`SelectionRule.describe()` or `SealedSelection.describe()`).
        dataset: str or None. The file's `dataset` attribute. Defaults to
            `None`.
        code_directory: str or None. Where to look for a git checkout.
            Defaults to `None`: the installed `msakeras` package's folder.

    Returns:
        A dict with the keys of `RECEIPT_FIELDS`.

    Example:

    ```python
    receipt = msakeras.experiment.run_receipt(
        "mosi.h5", 1111, {"batch_size": 32},
        msakeras.experiment.SelectionRule("val_mae", "min"))
    receipt["data"]["sha256"]
    ```
    """
    from msakeras.backend import device_info

    if hasattr(selection, "describe"):
        selection = selection.describe()
    return {
        "git": _copy(git_state(code_directory)),
        "backend": keras.config.backend(),
        "device": device_info.device_description(),
        "dtype_policy": keras.config.dtype_policy().name,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": library_versions(),
        "seed": int(seed),
        "data": {
            "path": os.path.abspath(os.fspath(data_path)),
            "sha256": file_sha256(data_path),
            "bytes": os.path.getsize(data_path),
            "dataset": dataset,
        },
        "hyperparameters": dict(hyperparameters),
        "selection": dict(selection),
    }


def _copy(value):
    return None if value is None else dict(value)

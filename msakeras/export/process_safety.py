"""Exports that a kill cannot leave half done.

- `run_child`: the TensorFlow (or torch) export child gets
  `PR_SET_PDEATHSIG = SIGKILL` (Linux), so killing the parent kills the
  child too; it can no longer publish a version after its parent died.
- `make_staging` / `clean_stale_staging`: staging folders are named
  `.tmp-<version>-<pid>-<random>`; the next export into the same base
  folder removes those whose process is gone (a killed export's leftovers)
  and leaves a live export's staging alone.
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

_PR_SET_PDEATHSIG = 1
_STAGING = re.compile(r"^\.tmp-\d+-(\d+)-")


def _die_with_parent():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_child(command, **kwargs):
    """`subprocess.run(command, **kwargs)`; the child dies with its parent."""
    if sys.platform.startswith("linux"):
        kwargs.setdefault("preexec_fn", _die_with_parent)
    return subprocess.run(command, **kwargs)


def run_export_command(
    keras_path, options, serve_outputs, source_label, backend
):
    """Runs `python -m msakeras.export KERAS_PATH OPTIONS...` under `backend`.

    The shared tail of the command (`--source-label`, `--outputs` or
    `--all-outputs`) is added here; the child finds this copy of
    `msakeras` first on its `PYTHONPATH` and dies with its parent.

    Args:
        keras_path: str. The `.keras` file the child exports.
        options: list of str. The format's own options.
        serve_outputs: list of output names, or None for all outputs.
        source_label: str or None. What the export record names as source.
        backend: str. The child's `KERAS_BACKEND`.

    Returns:
        The `subprocess.CompletedProcess` (text stdout/stderr captured).
    """
    command = [sys.executable, "-m", "msakeras.export", keras_path, *options]
    if source_label:
        command += ["--source-label", source_label]
    if serve_outputs is None:
        command += ["--all-outputs"]
    else:
        command += ["--outputs", *serve_outputs]
    environment = dict(os.environ, KERAS_BACKEND=backend)
    package_root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    environment["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    )
    return run_child(command, env=environment, capture_output=True, text=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(output_dir):
    """Removes `.tmp-<version>-<pid>-*` folders of processes that ended.

    Returns:
        The names removed.
    """
    removed = []
    if not os.path.isdir(output_dir):
        return removed
    for name in sorted(os.listdir(output_dir)):
        match = _STAGING.match(name)
        path = os.path.join(output_dir, name)
        if match and os.path.isdir(path) and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed


def make_staging(output_dir, version):
    """A fresh staging folder in `output_dir`, after cleaning stale ones."""
    os.makedirs(output_dir, exist_ok=True)
    clean_stale_staging(output_dir)
    staging = tempfile.mkdtemp(
        prefix=f".tmp-{version}-{os.getpid()}-", dir=output_dir
    )
    from msakeras.callbacks import atomic_files  # lazy: stdlib-only import

    os.chmod(staging, 0o777 & ~atomic_files.user_umask())  # mkdtemp: 0700
    return staging

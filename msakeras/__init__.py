"""msakeras: Keras 3 toolkit for multimodal sentiment analysis.

Importing `msakeras` registers every public layer, loss, optimizer and model
(package `msakeras`), so `keras.models.load_model` can revive `.keras` files.
`msakeras.export` (TensorFlow-only) is imported on demand.
Under torch or JAX, `MSAKERAS_KEEP_TENSORFLOW_OUT=1` (set by the recipes,
and by default for `msakeras predict` / `python -m msakeras.predict`)
keeps TensorFlow out of the process; see `msakeras.backend.tensorflow_guard`.

DECISION: `msakeras --help` / `python -m msakeras... --help` must print in
well under 2 s, and Keras alone takes several seconds to import. When the
process is the msakeras command line (`python -m msakeras...` or the
`msakeras` console script) asking only for help, the submodules are not
imported eagerly; they still load on first attribute access (PEP 562).
"""

import importlib
import os
import sys

__version__ = "0.1.0"

_SUBMODULES = (
    "callbacks",
    "data",
    "experiment",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "training",
)


_HERE = os.path.dirname(os.path.abspath(__file__))
_TOOL_FOLDERS = tuple(
    os.path.join(folder, "")
    for folder in (
        _HERE,
        os.path.join(os.path.dirname(_HERE), "data_prep"),
        os.path.join(os.path.dirname(_HERE), "recipes"),
    )
)


def _command_line():
    argv = sys.argv
    if not argv:
        return False
    # The console script, `python -m ...` while it is resolved, or one of
    # this project's own tools (msakeras/, data_prep/, recipes/ run as a
    # script or module: argv[0] is then the file's path).
    return (
        argv[0] == "-m"
        or os.path.basename(argv[0]) in ("msakeras", "msakeras.exe")
        or os.path.abspath(argv[0]).startswith(_TOOL_FOLDERS)
    )


def _predict_command():
    """`python -m msakeras.predict ...` or `msakeras predict ...`."""
    argv = list(getattr(sys, "orig_argv", None) or sys.argv)
    if "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1 :]
        return module[:1] == ["msakeras.predict"] or module[:2] == [
            "msakeras",
            "predict",
        ]
    return os.path.basename(sys.argv[0]) in (
        "msakeras",
        "msakeras.exe",
    ) and sys.argv[1:2] == ["predict"]


def _cli_help_only():
    return _command_line() and any(a in ("-h", "--help") for a in sys.argv[1:])


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"msakeras.{name}")
    raise AttributeError(f"module 'msakeras' has no attribute {name!r}")


if not _cli_help_only():
    import contextlib as _contextlib

    from msakeras import _framework_logs

    _quiet = _contextlib.nullcontext()
    if _command_line():  # framework log noise off (unless the user set it)
        _framework_logs.set_quiet_defaults()
        _quiet = _framework_logs.filtered_native_stderr()
    with _quiet:
        from msakeras.backend import tensorflow_guard as _tensorflow_guard

        if _predict_command():  # a .keras file needs no TensorFlow
            os.environ.setdefault(_tensorflow_guard.ENVIRONMENT_VARIABLE, "1")
        _tensorflow_guard.keep_tensorflow_out_if_requested()

        from msakeras import callbacks
        from msakeras import data
        from msakeras import experiment
        from msakeras import layers
        from msakeras import losses
        from msakeras import metrics
        from msakeras import models
        from msakeras import optimizers
        from msakeras import training

"""Framework log noise off by default on the command line.

TensorFlow (the Keras backend, or loaded by keras-hub/export) writes native
log lines to stderr: "WARNING: All log messages before absl::InitializeLog()
is called are written to STDERR", `I0000 ... cudart_stub.cc] Could not find
cuda drivers`, `E0000 ... failed call to cuInit` on every CPU run. They
say nothing about the user's run.

The msakeras command line, the recipes and the converters call
`set_quiet_defaults` before any framework is imported: it sets
`TF_CPP_MIN_LOG_LEVEL=3` unless the user set it (a value the user set is
kept, so `TF_CPP_MIN_LOG_LEVEL=0` brings everything back). The few lines
TensorFlow writes while it loads, before it reads that variable, are
filtered out of stderr during the import (`filtered_native_stderr`); any
other line written meanwhile (a Python warning, an error) is passed on.

Keras-free and NumPy-free: imported first by `msakeras/__init__.py`.
"""

import contextlib
import os
import re
import sys
import tempfile

QUIET_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "3"}

_ABSL_HEADER = re.compile(r"^WARNING: All log messages before absl::")
_NATIVE_LINE = re.compile(r"^([IWE])\d{4} [\d:. ]+\d+ [\w./-]+:\d+\] ")
_CONTINUATION = re.compile(r"^To enable the following instructions:")


def set_quiet_defaults(environ=None):
    """Sets `QUIET_DEFAULTS` where unset; returns the names it set."""
    environ = os.environ if environ is None else environ
    changed = []
    for name, value in QUIET_DEFAULTS.items():
        if name not in environ:
            environ[name] = value
            changed.append(name)
    return changed


def _level(environ):
    try:
        return int(environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def is_noise(line, level):
    """Whether a native stderr line is hidden at `TF_CPP_MIN_LOG_LEVEL`
    `level` (1: INFO, 2: + WARNING, 3: + ERROR)."""
    if _ABSL_HEADER.match(line) or _CONTINUATION.match(line):
        return level >= 2
    match = _NATIVE_LINE.match(line)
    if match is None:
        return False
    return level > "IWE".index(match.group(1))


@contextlib.contextmanager
def filtered_native_stderr(environ=None):
    """Within the block, stderr (file descriptor 2) is collected and, at
    the end, written back without the lines `is_noise` hides at the
    current `TF_CPP_MIN_LOG_LEVEL`. Does nothing at level 0 or where the
    descriptor cannot be redirected."""
    level = _level(os.environ if environ is None else environ)
    try:
        if level < 1:
            raise OSError("nothing to hide")
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not is_noise(line, level)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()

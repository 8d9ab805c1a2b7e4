"""Test-only hooks for recipe subprocesses (never imported by msakeras).

`tests/conftest.py` puts this folder first on `PYTHONPATH`, so every
Python process a test starts (a recipe, a tune trial's recipe) reads this
file at start-up. With `MSAKERAS_TEST_KILL_AT=<epoch>,<batch>` (0-based)
the recipe's standard callbacks gain `KillAtBatch`, which SIGKILLs the
process at that batch as an out-of-memory kill would
(tests/recipes/test_resume_and_determinism.py). Without it nothing runs.

The hook waits for `msakeras.experiment.run_callbacks` to be imported (an
import finder), so nothing loads before the recipe's own start-up.
"""

import importlib.abc
import importlib.machinery
import os
import sys

KILL_AT_VARIABLE = "MSAKERAS_TEST_KILL_AT"
TARGET = "msakeras.experiment.run_callbacks"


def _kill_at_batch_class():
    import keras

    class KillAtBatch(keras.callbacks.Callback):
        def __init__(self, epoch, batch):
            super().__init__()
            self.kill_epoch = epoch
            self.kill_batch = batch
            self.epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (self.kill_epoch, self.kill_batch):
                import signal

                print(
                    f"killing at epoch {self.epoch}, batch {batch}", flush=True
                )
                os.kill(os.getpid(), signal.SIGKILL)

    return KillAtBatch


def _add_kill_hook(module, epoch, batch):
    standard = module.standard_callbacks
    kill_at_batch = _kill_at_batch_class()

    def standard_callbacks(*args, **kwargs):
        callbacks = standard(*args, **kwargs)
        # After ResumableBackup, before the progress bar (the last one).
        callbacks.insert(len(callbacks) - 1, kill_at_batch(epoch, batch))
        return callbacks

    module.standard_callbacks = standard_callbacks


class _KillHookFinder(importlib.abc.MetaPathFinder):
    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            _add_kill_hook(module, self.epoch, self.batch)

        spec.loader.exec_module = exec_module
        return spec


# tests/tune: `<trial name>:<epoch>,<batch>` kills that trial's recipe
# there on its first launch only (the retry must continue from its
# checkpoint). The recipe runs with `--output-dir <search>/trials/<name>`;
# `msakeras.tune` appends one line per launch to
# `<search>/launches.jsonl` before starting it.
TUNE_KILL_FIRST_VARIABLE = "MSAKERAS_TUNE_TEST_KILL_FIRST"


def _tune_first_launch_kill_at():
    name, _, kill_at = os.environ.get(TUNE_KILL_FIRST_VARIABLE, "").partition(
        ":"
    )
    if not name or "--output-dir" not in sys.argv[:-1]:
        return None
    folder = os.path.abspath(sys.argv[sys.argv.index("--output-dir") + 1])
    if os.path.basename(folder) != name:
        return None
    launches = os.path.join(
        os.path.dirname(os.path.dirname(folder)), "launches.jsonl"
    )
    try:
        with open(launches, encoding="utf-8") as handle:
            count = sum(f'"trial": "{name}"' in line for line in handle)
    except OSError:
        return None
    return kill_at if count == 1 else None


_kill_at = os.environ.get(KILL_AT_VARIABLE) or _tune_first_launch_kill_at()
if _kill_at:
    sys.meta_path.insert(0, _KillHookFinder(*map(int, _kill_at.split(","))))

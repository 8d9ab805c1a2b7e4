"""An exclusive lock on a run's output folder (`fcntl.flock`).

Two recipe runs pointed at the same `--output-dir` would otherwise both
pass the "empty folder" check and overwrite each other's checkpoints. The
lock is an advisory `flock` on `<folder>/.msakeras.lock`: the kernel drops
it when the holding process exits or is killed, so a killed run never
leaves a stale lock that blocks `--resume`.
"""

import os

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not locked there.
    fcntl = None

LOCK_NAME = ".msakeras.lock"


class RunLockError(RuntimeError):
    """Another live process holds the lock."""


class RunLock:
    """Holds `flock(LOCK_EX | LOCK_NB)` on `<directory>/.msakeras.lock`.

    Args:
        directory: str. The folder to lock (created if missing).
        name: str. The lock file's name in `directory`.

    Example:

    ```python
    with RunLock("saved_models/mmim_mosi/runs"):
        ...  # train; a second run on the folder raises RunLockError
    ```
    """

    def __init__(self, directory, name=LOCK_NAME):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, name)
        self._handle = None

    def acquire(self):
        os.makedirs(self.directory, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise RunLockError(
                    f"{self.directory} is in use by a running job "
                    f"({holder}); wait for it to finish or choose another "
                    "--output-dir."
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self):
        if self._handle is not None:
            if fcntl is not None:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


_HELD = {}


def hold_run_lock(directory):
    """Locks `directory` for the rest of this process (idempotent).

    Raises `RunLockError` when another process holds it.
    """
    key = os.path.realpath(directory)
    if key not in _HELD:
        _HELD[key] = RunLock(directory).acquire()
    return _HELD[key]

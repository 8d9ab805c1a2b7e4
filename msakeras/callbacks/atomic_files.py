"""`atomic_output_path`: write to a temporary file, then rename into place."""

import contextlib
import errno
import os

DISK_ERRNOS = frozenset(
    {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM}
)
"""The errors of a read-only, full or forbidden output location."""


@contextlib.contextmanager
def atomic_output_path(path):
    """Yields a temporary path beside `path`; renames it there on success.

    The temporary name keeps `path`'s file name as its suffix (Keras checks
    suffixes such as `.keras` and `.weights.h5`). On success it is moved
    onto `path` with `os.replace` (atomic on POSIX and Windows within one
    file system), so a reader, or a process killed mid-write, only ever
    sees the old file or the new one. On an exception the temporary file
    is removed and `path` is left untouched.

    Args:
        path: str or path-like. The final file.

    Example:

    ```python
    with msakeras.callbacks.atomic_output_path("preds.csv") as temporary:
        table.to_csv(temporary, index=False)
    ```
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f".partial-{os.getpid()}-{name}")
    try:
        yield temporary
        if os.path.exists(temporary):
            os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def user_umask():
    """The process umask (new outputs get `0o666 & ~umask`), unchanged."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def disk_fault_message(error, prefix):
    """One line for a disk fault: what could not be written, and why."""
    name = errno.errorcode.get(error.errno, str(error.errno))
    where = f" '{error.filename}'" if error.filename else ""
    return (
        f"{prefix}: cannot write{where}: {os.strerror(error.errno)} "
        f"({name}). Nothing half-written was published; free space or "
        "choose a writable folder, then run again."
    )


@contextlib.contextmanager
def disk_faults_exit(prefix):
    """Turns a read-only/full-disk `OSError` into `SystemExit(one line)`.

    Writers publish through `atomic_output_path` (or a staging folder), so
    the partial file is already gone when the error arrives here.
    """
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_ERRNOS:
            raise
        raise SystemExit(disk_fault_message(error, prefix)) from None


def check_writable_folder(folder):
    """Creates `folder` if needed and writes (then removes) a probe file.

    Raises the `OSError` of a read-only or full folder before any long
    work starts (an export's child process would only report it late).
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    probe = os.path.join(folder, f".write-probe-{os.getpid()}")
    try:
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if os.path.exists(probe):
            os.remove(probe)

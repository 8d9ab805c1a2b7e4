"""`atomic_output_path`: write to a temporary file, then rename into place."""

import contextlib
import os


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

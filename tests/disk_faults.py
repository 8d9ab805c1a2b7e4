"""Read-only and full disks for tests, in-process.

`read_only(folder)` makes `folder` read-only for this process: a real
`chmod 0500` when not running as root, else (root writes anyway) the
Python calls that create, open for writing, rename or remove under it
raise `OSError(EROFS)`. `full_disk(folder)` makes every publishing
`os.replace`/`os.rename` into `folder` and every write-mode `open` there
raise `OSError(ENOSPC)` (a tiny tmpfs is not available in CI).
"""

import builtins
import contextlib
import errno
import os
from unittest import mock


def _under(path, folder, match=None):
    try:
        path = os.path.abspath(os.fspath(path))
    except TypeError:  # a file descriptor
        return False
    if match is not None and match not in os.path.basename(path):
        return False
    return path == folder or path.startswith(folder + os.sep)


def _writing(mode="r", flags=0):
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


@contextlib.contextmanager
def _failing(folder, code, names, match=None):
    folder = os.path.abspath(folder)
    real = {name: getattr(os, name) for name in names if name != "open"}
    real_open, real_os_open = builtins.open, os.open

    def fail(path):
        raise OSError(code, os.strerror(code), os.fspath(path))

    def guarded(name):
        def call(*args, **kwargs):
            targets = args[:2] if name in ("replace", "rename") else args[:1]
            if any(_under(t, folder, match) for t in targets[-1:]):
                fail(targets[-1])
            return real[name](*args, **kwargs)

        return call

    def guarded_open(file, mode="r", *args, **kwargs):
        if _writing(mode) and _under(file, folder, match):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if _writing(flags=flags) and _under(path, folder, match):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    patches = [mock.patch.object(os, n, guarded(n)) for n in real]
    patches.append(mock.patch.object(builtins, "open", guarded_open))
    patches.append(mock.patch.object(os, "open", guarded_os_open))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


@contextlib.contextmanager
def read_only(folder):
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() != 0:
        os.chmod(folder, 0o500)
        try:
            yield
        finally:
            os.chmod(folder, 0o700)
        return
    names = ("mkdir", "replace", "rename", "remove", "unlink", "open")
    with _failing(folder, errno.EROFS, names):
        yield


@contextlib.contextmanager
def full_disk(folder, match=None):
    """`match`: only files whose name contains it fail (e.g. a checkpoint
    published mid-run)."""
    names = ("replace", "rename", "open")
    with _failing(folder, errno.ENOSPC, names, match):
        yield


def leftovers(folder):
    """Every file and folder under `folder`, relative paths."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(found)

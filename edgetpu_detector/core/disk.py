"""A full disk as one clear error: which path could not be written, how much space is free there and about
how much the write needs.

``disk_full_guard`` turns the errors a full filesystem causes (``ENOSPC``, ``EDQUOT``, ``EFBIG`` from a
file-size limit, and the same conditions reported as text by TensorFlow's and HDF5's C++ writers) into
``DiskFull``, whose message is the one line the step's run and the console show, e.g.::

    disk full: could not write /data/out/checkpoints: 3.1 MiB free there, about 41.2 MiB needed; free space
    and run the same command again
"""
import contextlib
import errno
import os
from pathlib import Path
import shutil

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded", "File too large")


class DiskFull(OSError):
    """A write failed for lack of space; ``path``, ``free_bytes`` and ``needed_bytes`` (None: unknown)."""

    def __init__(self, path, free_bytes, needed_bytes=None):
        self.path, self.free_bytes, self.needed_bytes = str(path), free_bytes, needed_bytes
        needed = f", about {_mib(needed_bytes)} needed" if needed_bytes else ""
        free = f"{_mib(free_bytes)} free there" if free_bytes is not None else "free space unknown"
        super().__init__(errno.ENOSPC, f"disk full: could not write {path}: {free}{needed}; free space and run "
                                       "the same command again")

    def __str__(self):
        return self.strerror


def _mib(count):
    return f"{count / (1 << 20):.1f} MiB"


def is_disk_full(error):
    """True when ``error`` (or an exception it was raised from) says a filesystem was full."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(error) for text in DISK_FULL_TEXTS):
            return True
        error = error.__cause__ or error.__context__
    return False


def free_bytes(path):
    """Bytes available to this user on the filesystem of ``path`` (its nearest existing parent), or None."""
    path = Path(path).absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def folder_size(path):
    """Total bytes of the files under ``path`` (a file: its size); 0 when it does not exist."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def check_free_space(path, needed_bytes):
    """Raise ``DiskFull`` before writing ``needed_bytes`` under ``path`` when its filesystem has less free."""
    free = free_bytes(path)
    if free is not None and needed_bytes and free < needed_bytes:
        raise DiskFull(path, free, needed_bytes)


@contextlib.contextmanager
def disk_full_guard(path, needed=None):
    """Turn a disk-full error raised in the block into ``DiskFull`` naming ``path``.

    Args:
      path: what the block writes (file or folder), named in the message.
      needed: bytes the block needs there, or a callable returning them (evaluated after the failure, e.g.
        from what was written), or None when unknown.

    Raises:
      DiskFull: chained to the original error. Other errors pass through unchanged.
    """
    try:
        yield
    except DiskFull:
        raise
    except Exception as error:
        if not is_disk_full(error):
            raise
        try:
            amount = needed() if callable(needed) else needed
        except Exception:  # an estimate must never hide the real error
            amount = None
        raise DiskFull(path, free_bytes(path), amount) from error

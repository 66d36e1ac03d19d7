"""An exclusive lock between processes on one machine: ``fcntl.flock`` on a lock file.

The kernel releases the lock when its holder exits, however it exits (``kill -9`` included), so a crashed
holder never leaves a stale lock. The lock file itself stays (it is empty); its descriptor is not inherited
by child processes (Python opens files non-inheritable).
"""
import contextlib
import fcntl
import os
from pathlib import Path


@contextlib.contextmanager
def file_lock(path, on_wait=None):
    """Hold an exclusive ``flock`` on ``path`` (created with its parent folders) for the block.

    Args:
      path: the lock file (str or Path).
      on_wait: called once with no argument when another process holds the lock, before blocking on it
        (e.g. to print that this process waits).

    Yields:
      True when the lock was free, False when this process had to wait for it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            waited = False
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = True
        yield not waited
    finally:
        os.close(fd)  # closing the descriptor releases the lock

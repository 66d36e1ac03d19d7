"""Atomic writes: build the output next to its final place, then rename it in, so that a crash or a
concurrent reader never sees a half-written export."""
import contextlib
import os
from pathlib import Path
import shutil
import tempfile


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` via a temporary file in the same folder and ``os.replace``.

    Creates the parent folder. Returns the ``Path`` written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def atomic_directory(path):
    """Context manager yielding a fresh temporary folder that replaces ``path`` when the block succeeds.

    An existing ``path`` is swapped out and deleted only after the new folder is in place; on error the
    temporary folder is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

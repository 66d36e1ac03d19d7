"""Atomic writes: build the output next to its final place, then rename it in, so that a crash or a
concurrent reader never sees a half-written file or folder (``os.replace`` is atomic on POSIX within one
filesystem)."""
import contextlib
import os
from pathlib import Path
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Context manager yielding a temporary file name beside ``path``; when the block succeeds the file
    written there replaces ``path``, on any error it is removed and ``path`` is left untouched.

    For writers that take a file name (``model.save_weights``, a download). Creates the parent folder; the
    temporary name keeps ``path``'s suffix(es) before ``suffix`` so that writers that check the extension
    (Keras's ``.weights.h5``) accept it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{suffix}{''.join(path.suffixes)}",
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically (``atomic_path``). Returns the ``Path`` written."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` atomically (``atomic_path``). Returns the ``Path`` written."""
    return atomic_write_bytes(path, text.encode(encoding))


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

"""Content fingerprints of files and folders: what identifies a dataset or a weights file across runs.

A fingerprint is the SHA-256 of the content, not of names or times: copying a dataset elsewhere keeps its
fingerprint, touching a file does not change it, and editing one label does. For a folder it is the SHA-256
of the sorted list of ``(relative path, SHA-256 of the file)`` pairs, so renaming or moving a file inside the
folder changes it too (an image's file name is part of its annotation).
"""
import hashlib
from pathlib import Path

# Folders and files that never hold data: version-control folders and desktop metadata.
IGNORED_NAMES = frozenset({".git", ".hg", ".svn", "__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})
_CHUNK = 1 << 20


def file_sha256(path):
    """SHA-256 (hex str, 64 characters) of a file's bytes, read in 1 MiB chunks.

    Raises:
      FileNotFoundError / IsADirectoryError / PermissionError: from ``open``.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder):
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in IGNORED_NAMES for part in relative.parts):
            continue
        if path.is_file():
            yield relative.as_posix(), path


def content_fingerprint(path):
    """Fingerprint (hex str, 64 characters) of a file or a folder's files (see module docstring).

    Symbolic links are followed; entries named in ``IGNORED_NAMES`` are skipped.

    Raises:
      FileNotFoundError: ``path`` does not exist (the message names it).
    """
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    if not path.is_dir():
        raise FileNotFoundError(f"cannot fingerprint {path}: no such file or folder")
    digest = hashlib.sha256()
    for relative, file in _files(path):
        digest.update(f"{relative}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def short_fingerprint(fingerprint, length=16):
    """The first ``length`` hex digits of a fingerprint: what tags and the UI show."""
    return fingerprint[:length]

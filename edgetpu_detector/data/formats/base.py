"""What every annotation reader yields, and the safe resolution of file names written in annotations.

A reader turns one input format into ``RawAnnotation`` items (one per image) holding the objects as
written, coordinates in pixels or normalized to [0, 1]; edgetpu_detector.data.annotation_checks then finds the image, checks
everything and builds the ``ImageRecord``. A reader reports a file it cannot use as ``Unreadable``
(with the issue code and message) and goes on with the others.

Path safety: a name written in an annotation is only ever joined below the dataset folder:
absolute paths, drive letters and ``..`` that would climb out are rejected, and the result is
resolved through links and must still lie inside the dataset folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import json
import math
from pathlib import Path, PurePosixPath, PureWindowsPath

from edgetpu_detector.images.decode import IMAGE_EXTENSIONS

SPLIT_NAMES = ("train", "test", "val")
_SPLIT_ALIASES = {"train": "train", "training": "train", "test": "test", "testing": "test",
                  "val": "val", "valid": "val", "validation": "val"}


@dataclass
class RawObject:
    """One object as written: class name unstripped; coordinates float (NaN when missing or not a number),
    pixels unless ``normalized`` (fractions of the image width/height); ``raw`` is the text as written;
    ``difficult`` / ``truncated``: the PASCAL VOC flags (LabelImg's "difficult" checkbox), False where the
    format cannot say."""

    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    normalized: bool = False
    polygon: bool = False
    raw: str = ""
    problem: str = ""  # set by the reader when the object cannot be used (e.g. unknown class index): skipped
    problem_code: str = "label_not_in_map"  # the issue code reported with ``problem``
    difficult: bool = False
    truncated: bool = False


@dataclass
class RawAnnotation:
    """One image's annotation as read from a file (see the module docstring)."""

    source: Path  # the annotation file
    image_name: str | None  # file name (or relative path) of the image as written; None: unknown
    search_dirs: list = field(default_factory=list)  # folders to look for the image in, in order
    width: int | None = None  # image size as the annotation states it, pixels
    height: int | None = None
    objects: list = field(default_factory=list)  # RawObject
    split: str | None = None  # "train" / "test" / "val" from the folder or file name
    where: str = ""  # location inside the source, e.g. "row 5" (for messages)
    image_path: Path | None = None  # set when the reader already knows the image (YOLO, TFRecord)
    record_offset: int | None = None  # TFRecord input
    source_id: str | None = None  # TFRecord input: the Example's image/source_id (kept as the record's key)
    stem_fallback: bool = True  # may look the image up by the annotation file's stem (VOC, YOLO)


@dataclass
class Unreadable:
    """A file (or entry) a reader could not use: issue ``code``, message ``problem``, ``boxes`` lost with it
    (when known)."""

    source: Path
    code: str
    problem: str
    boxes: int = 0


def to_float(text) -> float:
    """``float(text)``, NaN when missing or not a number."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value


def split_from_name(name: str) -> str | None:
    """"train"/"test"/"val" when a folder or file name says so (``train``, ``training``, ``valid``,
    ``test_labels``, ``instances_val2017`` ...), else None."""
    lowered = name.lower()
    if lowered in _SPLIT_ALIASES:
        return _SPLIT_ALIASES[lowered]
    tokens = [t for t in lowered.replace("-", "_").replace(".", "_").split("_") if t]
    for token in tokens:
        stripped = token.rstrip("0123456789")
        if stripped in _SPLIT_ALIASES:
            return _SPLIT_ALIASES[stripped]
    return None


def split_of_path(path: Path, data_dir: Path) -> str | None:
    """Split named by the nearest folder above ``path`` (below ``data_dir``), else None."""
    for part in reversed(path.relative_to(data_dir).parts[:-1]):
        if part.lower() in _SPLIT_ALIASES:
            return _SPLIT_ALIASES[part.lower()]
    return None


def is_inside(path: Path, root: Path) -> bool:
    """True when ``path`` resolves (through links) to a location inside ``root`` (already resolved)."""
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


class PathOutside(ValueError):
    """A name in an annotation that would lead outside the dataset folder."""


def safe_relative(name: str) -> PurePosixPath:
    """Normalize a file name/path written in an annotation into a relative POSIX path.

    Windows separators are accepted. Raises PathOutside for an absolute path, a drive letter or a
    ``..`` component, and ValueError for an empty name.
    """
    text = name.strip().replace("\\", "/")
    if not text:
        raise ValueError("empty file name")
    if text.startswith("/") or PureWindowsPath(name.strip()).drive or PureWindowsPath(name.strip()).root:
        raise PathOutside(f"file name {name!r} is an absolute path")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise PathOutside(f"file name {name!r} climbs out with '..'")
    if not parts:
        raise ValueError(f"file name {name!r} names no file")
    return PurePosixPath(*parts)


def list_files(data_dir: Path, predicate) -> list[Path]:
    """Every regular file under ``data_dir`` (hidden files and folders left out) for which ``predicate(path)``
    is true, sorted by relative POSIX path."""
    found = []
    for path in data_dir.rglob("*"):
        rel = path.relative_to(data_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and predicate(path):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(data_dir).as_posix())


def is_image_file(path: Path) -> bool:
    """True for a file name with an image extension (case-insensitive)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


MAX_JSON_BYTES = 256 * 1024 * 1024  # far above any annotation file (labelme's embed the image: ~1.4 x its size)


def file_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a file, without a UTF-8 BOM and leading whitespace; b"" when unreadable."""
    try:
        with path.open("rb") as handle:
            return handle.read(size).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return b""


def load_json(path: Path, max_bytes: int = MAX_JSON_BYTES):
    """Parse a JSON annotation file (UTF-8, BOM allowed).

    Raises:
        ValueError: larger than ``max_bytes`` (refused unread) or not JSON; OSError: unreadable.
    """
    if path.stat().st_size > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    return json.loads(path.read_text(encoding="utf-8-sig"))

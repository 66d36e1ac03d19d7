"""Reader for YOLO txt labels as LabelImg's YOLO mode writes them (``yolo_io.py``).

One ``<image stem>.txt`` per image, beside it (or in a ``labels/`` folder beside ``images/``), one line
per object: ``class_index cx cy w h``, all normalized to [0, 1], class_index 0-based into
``classes.txt`` (one name per line, found in the label folder or any folder above it up to the dataset
folder). An empty ``.txt`` marks an image without objects.
"""
from __future__ import annotations

from pathlib import Path

from edgetpu_detector.data.formats.base import (
    RawAnnotation,
    RawObject,
    Unreadable,
    is_image_file,
    list_files,
    split_of_path,
    to_float,
)

NAME = "yolo"
CLASSES_FILE = "classes.txt"


def annotation_files(data_dir: Path) -> list[Path]:
    """Every ``.txt`` file except ``classes.txt`` and README-like files under ``data_dir``."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".txt" and p.name.lower() != CLASSES_FILE
                      and p.stem.upper() not in ("README", "LICENSE", "SOURCE"))


def detect(data_dir: Path) -> bool:
    """True when a ``classes.txt`` exists and some ``.txt`` label file beside an image stem."""
    return bool(list_files(data_dir, lambda p: p.name.lower() == CLASSES_FILE)) and bool(annotation_files(data_dir))


def _classes_for(folder: Path, data_dir: Path, cache: dict):
    for directory in (folder, *folder.parents):
        if directory in cache:
            return cache[directory]
        candidate = directory / CLASSES_FILE
        if candidate.is_file():
            cache[directory] = (candidate, [line.strip() for line in candidate.read_text(encoding="utf-8").splitlines()
                                            if line.strip()])
            return cache[directory]
        if directory == data_dir:
            break
    return None


def _image_for(txt: Path) -> tuple[list[Path], str]:
    dirs = [txt.parent]
    if txt.parent.name.lower() == "labels":
        dirs.append(txt.parent.parent / "images")
    return dirs, txt.stem


def read(data_dir: Path):
    """Yield one RawAnnotation per label file."""
    cache: dict = {}
    for path in annotation_files(data_dir):
        found = _classes_for(path.parent, data_dir, cache)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            yield Unreadable(path, "annotation_invalid", f"cannot be read: {exc}")
            continue
        if found is None:
            yield Unreadable(path, "annotation_invalid", f"no {CLASSES_FILE} in its folder or above",
                             boxes=sum(1 for line in lines if line.strip()))
            continue
        classes_path, classes = found
        objects = []
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            index = fields[0]
            problem = ""
            if index.isdigit() and int(index) < len(classes):
                name = classes[int(index)]
            else:
                name = ""
                problem = f"class index {index!r} is not in {classes_path.name} ({len(classes)} classes)"
            values = [to_float(v) for v in fields[1:5]] + [float("nan")] * max(0, 5 - len(fields))
            cx, cy, w, h = values[:4]
            if len(fields) != 5:
                cx = float("nan")
            objects.append(RawObject(name, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, normalized=True,
                                     raw=f"line {number}: {line.strip()!r}", problem=problem))
        dirs, stem = _image_for(path)
        image = None
        for directory in dirs:
            matches = sorted(p for p in directory.glob(f"{glob_escape(stem)}.*") if is_image_file(p)) \
                if directory.is_dir() else []
            if matches:
                image = matches[0]
                break
        yield RawAnnotation(source=path, image_name=image.name if image else f"{stem}.jpg", search_dirs=dirs,
                            objects=objects, split=split_of_path(path, data_dir), stem_fallback=True)


def glob_escape(text: str) -> str:
    """Escape glob metacharacters in a file stem."""
    import glob

    return glob.escape(text)

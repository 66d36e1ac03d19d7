"""Reader for the TF Object Detection API tutorials' CSV (``xml_to_csv.py``): one row per box.

Columns ``filename,width,height,class,xmin,ymin,xmax,ymax`` (pixels; extra columns ignored). Files
whose name says a split (``train_labels.csv``, ``test_labels.csv``, ``val_labels.csv``) give that split;
when such split files exist, other CSVs (e.g. raccoon's all-in-one ``raccoon_labels.csv``) are not read
and are reported (``csv_ignored``). A row with an empty ``class`` and no coordinates marks an image
without objects. Images are looked for beside the CSV, in its split subfolder and then by name
anywhere in the dataset folder.
"""
from __future__ import annotations

import csv
from pathlib import Path

from edgetpu_detector.data.formats.base import (
    RawAnnotation,
    RawObject,
    Unreadable,
    list_files,
    split_from_name,
    to_float,
)

NAME = "csv"
COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [c.strip().lower() for c in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError):
        return []


def annotation_files(data_dir: Path) -> list[Path]:
    """CSV files under ``data_dir`` whose header holds every column of ``COLUMNS``."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".csv" and set(COLUMNS) <= set(_header(p)))


def detect(data_dir: Path) -> bool:
    """True when a CSV in the tutorials' layout exists."""
    return bool(annotation_files(data_dir))


def read(data_dir: Path):
    """Yield one RawAnnotation per (CSV file, image), rows grouped by filename in first-seen order."""
    files = annotation_files(data_dir)
    split_files = [p for p in files if split_from_name(p.stem)]
    for path in files:
        split = split_from_name(path.stem)
        if split_files and not split:
            names = ", ".join(p.name for p in split_files)
            yield Unreadable(path, "csv_ignored", f"not a split file; the split files {names} are used instead")
            continue
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            yield Unreadable(path, "annotation_invalid", f"cannot be read as CSV: {exc}")
            continue
        groups: dict[str, RawAnnotation] = {}
        for number, row in enumerate(rows, start=2):
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
            name = row["filename"].strip()
            if not name:
                yield Unreadable(path, "annotation_invalid", f"row {number}: empty filename", boxes=1)
                continue
            group = groups.get(name)
            if group is None:
                width, height = to_float(row["width"]), to_float(row["height"])
                group = groups[name] = RawAnnotation(
                    source=path, image_name=name, where=f"row {number}",
                    search_dirs=[path.parent] + ([path.parent / split] if split else []),
                    width=int(width) if width == width and width > 0 else None,
                    height=int(height) if height == height and height > 0 else None,
                    split=split, stem_fallback=False)
            coords = [row[c].strip() for c in ("xmin", "ymin", "xmax", "ymax")]
            if not row["class"].strip() and not any(coords):
                continue  # an image without objects
            group.objects.append(RawObject(row["class"], *(to_float(c) for c in coords),
                                           raw=f"row {number}: " + ",".join(coords)))
        yield from groups.values()

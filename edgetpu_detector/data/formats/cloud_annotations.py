"""Reader for IBM Cloud Annotations' ``_annotations.json`` (one per folder, images beside it).

Format source: the Cloud Annotations docs ("Object detection" export)::

    {"version": "1.0", "type": "localization", "labels": ["cat", ...],
     "annotations": {"img.jpg": [{"x": 0.1, "y": 0.2, "x2": 0.5, "y2": 0.6, "label": "cat"}, ...], ...}}

Coordinates are normalized to [0, 1] (x across the width). An image listed with ``[]`` is a negative.
The split comes from the folder holding the JSON (``train/``, ``test/``, ``val/``).
"""
from __future__ import annotations

import json
from pathlib import Path

from edgetpu_detector.data.formats.base import RawAnnotation, RawObject, Unreadable, list_files, split_of_path, to_float

NAME = "cloud_annotations"
FILENAME = "_annotations.json"


def annotation_files(data_dir: Path) -> list[Path]:
    """Every ``_annotations.json`` under ``data_dir``."""
    return list_files(data_dir, lambda p: p.name == FILENAME)


def detect(data_dir: Path) -> bool:
    """True when an ``_annotations.json`` exists."""
    return bool(annotation_files(data_dir))


def read(data_dir: Path):
    """Yield one RawAnnotation per image listed, in each file's order."""
    for path in annotation_files(data_dir):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            annotations = document["annotations"]
            if not isinstance(annotations, dict):
                raise TypeError("'annotations' is not an object keyed by image name")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            yield Unreadable(path, "annotation_invalid", f"not a Cloud Annotations file: {exc!r}")
            continue
        split = split_of_path(path, data_dir)
        for name, boxes in annotations.items():
            objects = []
            for index, box in enumerate(boxes if isinstance(boxes, list) else []):
                box = box if isinstance(box, dict) else {}
                values = [to_float(box.get(k)) for k in ("x", "y", "x2", "y2")]
                objects.append(RawObject(str(box.get("label", "")), *values, normalized=True,
                                         raw=f"box #{index + 1}: " + json.dumps(box, sort_keys=True)))
            yield RawAnnotation(source=path, image_name=name, search_dirs=[path.parent], objects=objects,
                                split=split, where=f"image {name!r}", stem_fallback=False)

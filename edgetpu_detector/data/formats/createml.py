"""Reader for CreateML JSON: LabelImg's third save format, Roboflow's and Apple Create ML's object-detection
annotations.

Format source: Apple's Create ML object-detection data format, as LabelImg 1.8.6 writes it
(``libs/create_ml_io.py``)::

    [{"image": "img.jpg",
      "annotations": [{"label": "cat", "coordinates": {"x": 120, "y": 80, "width": 60, "height": 40}}, ...]},
     ...]

``x``, ``y`` are the box centre and ``width``, ``height`` its size, in pixels of the image. Any ``.json``
whose top level is such a list is read, whatever its name: LabelImg saves one ``<image stem>.json`` per
image (a one-entry list) into its save folder, and merges entries into one file when several images are
saved to the same name (``annotations.json``); Roboflow exports ``_annotations.createml.json`` per split
folder. An entry with ``"annotations": []`` is an image without objects. Images are looked for beside the
JSON, in an image folder beside an annotation folder (as for VOC) and then by name anywhere in the dataset
folder. The format has no ``difficult`` flag (LabelImg drops it when saving CreateML).
"""
from __future__ import annotations

import json
from pathlib import Path

from edgetpu_detector.data.formats.base import (
    RawAnnotation,
    RawObject,
    Unreadable,
    file_head,
    list_files,
    load_json,
    split_of_path,
    to_float,
)
from edgetpu_detector.data.formats.voc import image_dirs

NAME = "createml"
_HEAD = 4096


def _is_createml(path: Path) -> bool:
    """True when the file's JSON top level is a list whose first entry has ``image`` and ``annotations``."""
    head = file_head(path, _HEAD)
    if not head.startswith(b"[") or b'"image"' not in head or b'"annotations"' not in head:
        return False
    try:
        document = load_json(path)
    except (OSError, ValueError):
        return True  # looks like CreateML but does not parse: read() reports it
    return (isinstance(document, list) and bool(document) and isinstance(document[0], dict)
            and "image" in document[0] and "annotations" in document[0])


def annotation_files(data_dir: Path) -> list[Path]:
    """CreateML JSON files under ``data_dir`` (sorted)."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".json" and _is_createml(p))


def detect(data_dir: Path) -> bool:
    """True when a CreateML JSON exists."""
    return bool(annotation_files(data_dir))


def _object(index: int, annotation) -> RawObject:
    annotation = annotation if isinstance(annotation, dict) else {}
    box = annotation.get("coordinates")
    box = box if isinstance(box, dict) else {}
    x, y, w, h = (to_float(box.get(k)) for k in ("x", "y", "width", "height"))
    raw = f"annotation #{index + 1}: " + json.dumps(annotation, sort_keys=True)[:200]
    return RawObject(str(annotation.get("label", "")), x - w / 2, y - h / 2, x + w / 2, y + h / 2, raw=raw)


def read(data_dir: Path):
    """Yield one RawAnnotation per entry (image) of every CreateML file, in each file's order."""
    for path in annotation_files(data_dir):
        try:
            document = load_json(path)
            if not isinstance(document, list):
                raise TypeError("the top level is not a list of images")
        except (OSError, ValueError, TypeError) as exc:
            yield Unreadable(path, "annotation_invalid", f"not a CreateML file: {exc}")
            continue
        split = split_of_path(path, data_dir)
        for number, entry in enumerate(document, start=1):
            annotations = entry.get("annotations") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or not isinstance(entry.get("image"), str) or not isinstance(annotations, list):
                boxes = len(annotations) if isinstance(annotations, list) else 0
                yield Unreadable(path, "annotation_invalid", f"entry #{number} has no \"image\" name and "
                                 f"\"annotations\" list: {json.dumps(entry)[:200]}", boxes=boxes)
                continue
            yield RawAnnotation(source=path, image_name=entry["image"], search_dirs=image_dirs(path.parent),
                                objects=[_object(i, a) for i, a in enumerate(annotations)], split=split,
                                where=f"image {entry['image']!r}", stem_fallback=False)

"""Reader for COCO object-detection JSON (``images``, ``annotations``, ``categories``).

Format source: https://cocodataset.org/#format-data: ``images[i] = {id, file_name, width, height}``,
``annotations[j] = {id, image_id, category_id, bbox: [x, y, width, height] (pixels, top-left origin),
segmentation, iscrowd}``, ``categories[k] = {id, name}``. An annotation without ``bbox`` but with a
polygon ``segmentation`` gets the polygon's bounding box (reported). Images without annotations are
negatives. ``file_name`` may hold a relative path (joined safely below the JSON's folder). The split
comes from the JSON's name (``instances_train2017.json``, ``val.json``) or its folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgetpu_detector.data.formats.base import (
    RawAnnotation,
    RawObject,
    Unreadable,
    list_files,
    split_from_name,
    split_of_path,
    to_float,
)

NAME = "coco"
_KEYS = ("images", "annotations", "categories")


def _is_coco(path: Path) -> bool:
    if path.name == "_annotations.json":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        return False
    return all(f'"{key}"'.encode() in head for key in _KEYS) or (
        all(f'"{key}"'.encode() in head for key in _KEYS[:2]) and _full_check(path))


def _full_check(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and all(key in document for key in _KEYS)


def annotation_files(data_dir: Path) -> list[Path]:
    """COCO JSON files under ``data_dir``."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".json" and _is_coco(p))


def detect(data_dir: Path) -> bool:
    """True when a COCO JSON exists."""
    return bool(annotation_files(data_dir))


def _object(annotation: dict, names: dict) -> RawObject:
    name = names.get(annotation.get("category_id"))
    label = name if name is not None else ""
    raw = "annotation id {}: ".format(annotation.get("id")) + json.dumps(
        {k: annotation.get(k) for k in ("bbox", "category_id")}, sort_keys=True)
    problem = "" if name is not None else f"category_id {annotation.get('category_id')!r} is not in categories"
    bbox = annotation.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4:
        x, y, w, h = (to_float(v) for v in bbox)
        return RawObject(label, x, y, x + w, y + h, raw=raw, problem=problem)
    segmentation = annotation.get("segmentation")
    if isinstance(segmentation, list) and segmentation and isinstance(segmentation[0], list):
        points = [to_float(v) for polygon in segmentation for v in polygon]
        xs, ys = points[0::2], points[1::2]
        if xs and ys:
            return RawObject(label, min(xs), min(ys), max(xs), max(ys), polygon=True, raw=raw, problem=problem)
    nan = float("nan")
    return RawObject(label, nan, nan, nan, nan, raw=raw + " (no bbox)", problem=problem)


def read(data_dir: Path):
    """Yield one RawAnnotation per entry of ``images``, in file order."""
    for path in annotation_files(data_dir):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            images, annotations = document["images"], document["annotations"]
            names = {c["id"]: str(c["name"]) for c in document["categories"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            yield Unreadable(path, "annotation_invalid", f"not a COCO detection file: {exc!r}")
            continue
        split = split_from_name(path.stem) or split_of_path(path, data_dir)
        by_image: dict = {}
        for annotation in annotations:
            if isinstance(annotation, dict):
                by_image.setdefault(annotation.get("image_id"), []).append(annotation)
        known = set()
        for image in images:
            if not isinstance(image, dict) or "file_name" not in image:
                yield Unreadable(path, "annotation_invalid", f"image entry without file_name: {image!r}"[:300],
                                 boxes=len(by_image.get(image.get("id") if isinstance(image, dict) else None, [])))
                continue
            known.add(image.get("id"))
            width, height = to_float(image.get("width")), to_float(image.get("height"))
            objects = [_object(a, names) for a in by_image.get(image.get("id"), [])]
            search = [path.parent] + [path.parent / d for d in ("images", split or "") if d and (path.parent / d).is_dir()]
            yield RawAnnotation(source=path, image_name=str(image["file_name"]), search_dirs=search,
                                width=int(width) if width == width and width > 0 else None,
                                height=int(height) if height == height and height > 0 else None,
                                objects=objects, split=split, where=f"image id {image.get('id')!r}",
                                stem_fallback=False)
        orphans = sum(len(v) for k, v in by_image.items() if k not in known)
        if orphans:
            yield Unreadable(path, "image_missing", f"{orphans} annotations name an image_id that is not in images",
                             boxes=orphans)

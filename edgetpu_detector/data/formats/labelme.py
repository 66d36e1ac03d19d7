"""Reader for labelme JSON: one ``.json`` per image with ``shapes``, ``imagePath``, ``imageHeight``,
``imageWidth``.

Format source: labelme's ``LabelFile`` (``labelme/_label_file.py``: ``version``, ``flags``, ``shapes``,
``imagePath``, ``imageData``, ``imageHeight``, ``imageWidth``; each shape ``{"label", "points": [[x, y],
...], "shape_type", "flags", "group_id", "description"}``, points in pixels). Shapes become boxes:

* ``rectangle``: its two corner points, in whichever order they were drawn;
* ``polygon``: the bounding box of its points (reported as ``polygon``, as VOC polygons are);
* any other type (``circle``, ``line``, ``linestrip``, ``point``, ``mask``) is no box: skipped and reported
  (``shape_unsupported``).

``imagePath`` is relative to the JSON (labelme writes ``../images/a.jpg`` when the JSON lies in another
folder); it is resolved against the JSON's folder and must stay inside the dataset folder. Embedded
``imageData`` is not used: the image file is. A shape flag named ``difficult`` or ``truncated`` (labelme's
``--labelflags``) sets that flag of the box.
"""
from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath, PureWindowsPath

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

NAME = "labelme"
_HEAD = 1 << 20
_BOX_SHAPES = ("rectangle", "polygon")


def _is_labelme(path: Path) -> bool:
    head = file_head(path, _HEAD)
    return head.startswith(b"{") and b'"shapes"' in head and b'"imagePath"' in head


def annotation_files(data_dir: Path) -> list[Path]:
    """labelme JSON files under ``data_dir`` (sorted)."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".json" and _is_labelme(p))


def detect(data_dir: Path) -> bool:
    """True when a labelme JSON exists."""
    return bool(annotation_files(data_dir))


def _object(index: int, shape) -> RawObject:
    shape = shape if isinstance(shape, dict) else {}
    kind = str(shape.get("shape_type") or "polygon")  # labelme's default shape type
    flags = shape.get("flags") if isinstance(shape.get("flags"), dict) else {}
    points = shape.get("points") if isinstance(shape.get("points"), list) else []
    pairs = [p for p in points if isinstance(p, (list, tuple)) and len(p) == 2]
    xs, ys = [to_float(p[0]) for p in pairs], [to_float(p[1]) for p in pairs]
    raw = f"shape #{index + 1} ({kind}): " + json.dumps({k: shape.get(k) for k in ("label", "points")})[:200]
    common = {"raw": raw, "difficult": bool(flags.get("difficult")), "truncated": bool(flags.get("truncated"))}
    nan = float("nan")
    label = str(shape.get("label", ""))
    if kind not in _BOX_SHAPES:
        return RawObject(label, nan, nan, nan, nan, problem=f"shape_type {kind!r} is not a box "
                         f"(only {' and '.join(_BOX_SHAPES)} are)", problem_code="shape_unsupported", **common)
    if len(pairs) < 2 or len(pairs) != len(points) or any(v != v for v in xs + ys):
        return RawObject(label, nan, nan, nan, nan, polygon=kind == "polygon", **common)
    return RawObject(label, min(xs), min(ys), max(xs), max(ys), polygon=kind == "polygon", **common)


def _image_location(path: Path, data_dir: Path, image_path: str) -> tuple[str, list[Path]]:
    """(name, search folders) for ``imagePath`` written relative to the JSON at ``path``."""
    text = image_path.strip()
    posix = PureWindowsPath(text).as_posix() if "\\" in text else text
    if posix and not PurePosixPath(posix).is_absolute() and not PureWindowsPath(text).drive:
        target = Path(os.path.normpath(path.parent / posix))
        try:
            target.relative_to(data_dir)
            return target.name, [target.parent, path.parent]
        except ValueError:
            pass  # climbs out of the dataset folder: the finder refuses it, naming it
    return text, [path.parent]


def read(data_dir: Path):
    """Yield one RawAnnotation per labelme file."""
    for path in annotation_files(data_dir):
        try:
            document = load_json(path)
            shapes, image_path = document["shapes"], document["imagePath"]
            if not isinstance(shapes, list) or not isinstance(image_path, str):
                raise TypeError("'shapes' is not a list or 'imagePath' is not a string")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            yield Unreadable(path, "annotation_invalid", f"not a labelme file: {exc!r}")
            continue
        name, search = _image_location(path, data_dir, image_path)
        width, height = to_float(document.get("imageWidth")), to_float(document.get("imageHeight"))
        yield RawAnnotation(source=path, image_name=name, search_dirs=search,
                            width=int(width) if width == width and width > 0 else None,
                            height=int(height) if height == height and height > 0 else None,
                            objects=[_object(i, s) for i, s in enumerate(shapes)], split=split_of_path(path, data_dir),
                            stem_fallback=True)

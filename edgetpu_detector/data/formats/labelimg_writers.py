"""Write annotations in LabelImg's three save formats, in the layout LabelImg 1.8.6 writes and opens.

Format source: LabelImg 1.8.6 (``libs/pascal_voc_io.py``, ``libs/yolo_io.py``, ``libs/create_ml_io.py`` and
``labelImg.py``'s ``save_file``), read for the layout only:

* Pascal VOC: ``<image stem>.xml`` beside the image: ``annotation/{folder, filename, path, source/database,
  size/{width, height, depth}, segmented, object/{name, pose, truncated, difficult, bndbox/{xmin, ymin, xmax,
  ymax}}}``, pretty-printed with tabs, no XML declaration; integral pixel coordinates written as integers.
* YOLO: ``<image stem>.txt`` beside the image, one ``class_index cx cy w h`` line per box (normalized,
  ``%.6f``), and ``classes.txt`` (one class name per line, line i = class index i) in the same folder.
* CreateML: ``<image stem>.json`` in the save folder, a list holding one ``{"image": name, "annotations":
  [{"label", "coordinates": {"x", "y", "width", "height"}}]}`` entry, ``x, y`` the box centre in pixels
  (LabelImg looks for exactly ``<save folder>/<image stem>.json`` when it opens an image in CreateML mode).

Boxes are ``edgetpu_detector.tfrecord.records.Box`` (float pixels). Nothing here touches the file system
except ``write_annotation``.
"""
from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from edgetpu_detector.core.atomic import atomic_write_bytes
from edgetpu_detector.tfrecord.records import Box

FORMATS = ("voc", "yolo", "createml")
SUFFIXES = {"voc": ".xml", "yolo": ".txt", "createml": ".json"}
CLASSES_FILE = "classes.txt"


def _number_text(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def voc_xml(folder: str, filename: str, width: int, height: int, boxes, path: str | None = None,
            depth: int = 3) -> bytes:
    """Pascal VOC XML bytes in LabelImg's layout.

    Args:
      folder, filename: ``<folder>``, ``<filename>``; path: ``<path>`` (default: ``filename``).
      width, height, depth: ``<size>``, pixels and channels.
      boxes: iterable of Box (or ``(class, xmin, ymin, xmax, ymax)`` tuples) in pixels; integral values are
        written as integers (LabelImg), others as Python floats (VoTT).
    """
    root = etree.Element("annotation")
    etree.SubElement(root, "folder").text = folder
    etree.SubElement(root, "filename").text = filename
    etree.SubElement(root, "path").text = filename if path is None else path
    source = etree.SubElement(root, "source")
    etree.SubElement(source, "database").text = "Unknown"
    size = etree.SubElement(root, "size")
    etree.SubElement(size, "width").text = str(width)
    etree.SubElement(size, "height").text = str(height)
    etree.SubElement(size, "depth").text = str(depth)
    etree.SubElement(root, "segmented").text = "0"
    for box in (Box(*b) for b in boxes):
        obj = etree.SubElement(root, "object")
        etree.SubElement(obj, "name").text = box.label
        etree.SubElement(obj, "pose").text = "Unspecified"
        etree.SubElement(obj, "truncated").text = str(int(box.truncated))
        etree.SubElement(obj, "difficult").text = str(int(box.difficult))
        bndbox = etree.SubElement(obj, "bndbox")
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            etree.SubElement(bndbox, tag).text = _number_text(getattr(box, tag))
    return etree.tostring(root, pretty_print=True, encoding="utf-8").replace(b"  ", b"\t")


def yolo_txt(width: int, height: int, boxes, class_names) -> bytes:
    """YOLO label lines (LabelImg's ``%d %.6f %.6f %.6f %.6f``) of ``boxes`` (pixels) in an image of ``width`` x
    ``height``; class index = position in ``class_names``.

    Raises:
      ValueError: a box class missing from ``class_names``.
    """
    index = {name: i for i, name in enumerate(class_names)}
    lines = []
    for box in (Box(*b) for b in boxes):
        if box.label not in index:
            raise ValueError(f"class {box.label!r} is not in the class list {list(class_names)}")
        cx, cy = (box.xmin + box.xmax) / 2 / width, (box.ymin + box.ymax) / 2 / height
        w, h = (box.xmax - box.xmin) / width, (box.ymax - box.ymin) / height
        lines.append("%d %.6f %.6f %.6f %.6f\n" % (index[box.label], cx, cy, w, h))
    return "".join(lines).encode("utf-8")


def classes_txt(class_names) -> bytes:
    """``classes.txt``: one class name per line."""
    return "".join(f"{name}\n" for name in class_names).encode("utf-8")


def createml_json(filename: str, boxes) -> bytes:
    """A CreateML document holding one image: ``[{"image": filename, "annotations": [...]}]`` (centre, size
    in pixels)."""
    annotations = []
    for box in (Box(*b) for b in boxes):
        w, h = box.xmax - box.xmin, box.ymax - box.ymin
        annotations.append({"label": box.label, "coordinates": {
            "x": _json_number(box.xmin + w / 2), "y": _json_number(box.ymin + h / 2),
            "width": _json_number(w), "height": _json_number(h)}})
    return json.dumps([{"image": filename, "annotations": annotations}]).encode("utf-8")


def _json_number(value):
    value = float(value)
    return int(value) if value.is_integer() else value


def write_annotation(format: str, image_path, width: int, height: int, boxes, class_names) -> Path:
    """Write the annotation of one image beside it (``<stem>.xml``, ``<stem>.txt`` + ``classes.txt``, or
    ``<stem>.json``), atomically, in LabelImg's layout; returns the annotation's path.

    Args:
      format: one of ``FORMATS``.
      image_path: the image the annotation belongs to (its folder receives the files).
      width, height: the image's size in pixels; boxes: Box in pixels; class_names: every class, in label-map
        order (YOLO's class indices; ``classes.txt`` is rewritten with them).

    Raises:
      ValueError: an unknown format, or (YOLO) a class missing from ``class_names``.
    """
    if format not in FORMATS:
        raise ValueError(f"annotation format must be one of {', '.join(FORMATS)}, got {format!r}")
    image_path = Path(image_path)
    target = image_path.with_suffix(SUFFIXES[format])
    boxes = list(boxes)
    if format == "voc":
        data = voc_xml(image_path.parent.name, image_path.name, width, height, boxes, path=str(image_path.resolve()))
    elif format == "yolo":
        data = yolo_txt(width, height, boxes, class_names)
        atomic_write_bytes(image_path.parent / CLASSES_FILE, classes_txt(class_names))
    else:
        data = createml_json(image_path.name, boxes)
    atomic_write_bytes(target, data)
    return target

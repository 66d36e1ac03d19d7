"""Parse one Pascal VOC annotation XML file (as written by LabelImg, VoTT, CVAT ...) safely with lxml.

Format source: the PASCAL VOC devkit annotation layout (``annotation/filename``, ``annotation/size/
{width,height,depth}``, ``annotation/object/{name,pose,truncated,difficult,bndbox/{xmin,ymin,xmax,
ymax}}``) as LabelImg's ``pascal_voc_io.py`` writes it. Coordinates are pixels; LabelImg writes
1-based integers, other tools write floats, both are accepted and returned unchanged as floats.

Security: annotation files come from users, so the parser never resolves entities, never loads a
DTD, never touches the network and keeps lxml's size limits (``huge_tree=False``); any document with
a DOCTYPE (the carrier of entity-expansion and external-entity attacks) is rejected.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree


@dataclass(frozen=True)
class VocObject:
    """One annotated object. Coordinates: float pixels as written in the XML (not clipped)."""

    name: str  # class name, surrounding whitespace stripped
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class VocAnnotation:
    """One parsed annotation file."""

    xml_path: Path
    filename: str | None  # <filename> as written (may be None when the tag is absent or empty)
    width: int  # <size><width>, pixels as written (not checked against the image)
    height: int  # <size><height>, pixels
    depth: int | None  # <size><depth>, channels, None when absent
    objects: list[VocObject] = field(default_factory=list)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _text(element, tag: str, path: Path, where: str) -> str:
    child = element.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise ValueError(f"{path}: missing <{tag}> in {where}")
    return child.text.strip()


def _number(element, tag: str, path: Path, where: str) -> float:
    raw = _text(element, tag, path, where)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{path}: <{tag}> in {where} is not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: <{tag}> in {where} is not finite: {raw!r}")
    return value


def _size_int(element, tag: str, path: Path) -> int:
    value = _number(element, tag, path, "<size>")
    if value < 0 or value != int(value):
        raise ValueError(f"{path}: <size><{tag}> must be a non-negative integer, got {value}")
    return int(value)


def _flag(element, tag: str) -> bool:
    text = element.findtext(tag)
    try:
        return bool(int(float(text))) if text and text.strip() else False
    except ValueError:
        return False


def parse_voc_xml(path) -> VocAnnotation:
    """Parse one Pascal VOC XML file.

    Returns:
        VocAnnotation with size in pixels (ints as written) and objects whose boxes are float pixels
        ``xmin, ymin, xmax, ymax`` as written (no clipping or ordering check: see common.dataset).

    Raises:
        ValueError: naming the file and the problem: malformed XML, a DOCTYPE/DTD or entity, a root
            other than <annotation>, missing or non-numeric <size>/<width>/<height>, an <object>
            without <name> or <bndbox>, or a missing/non-numeric bndbox coordinate.
        OSError: when the file cannot be read.
    """
    path = Path(path)
    try:
        tree = etree.parse(str(path), _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"{path}: malformed XML: {exc}") from exc
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ValueError(f"{path}: XML with a DOCTYPE/DTD is rejected (entities are not allowed)")
    root = tree.getroot()
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise ValueError(f"{path}: XML entity references are not allowed")
    if root.tag != "annotation":
        raise ValueError(f"{path}: root element is <{root.tag}>, expected <annotation>")

    filename = (root.findtext("filename") or "").strip() or None
    size = root.find("size")
    if size is None:
        raise ValueError(f"{path}: missing <size>")
    width = _size_int(size, "width", path)
    height = _size_int(size, "height", path)
    depth_text = (size.findtext("depth") or "").strip()
    try:
        depth = int(float(depth_text)) if depth_text else None
    except ValueError:
        depth = None

    objects = []
    for index, obj in enumerate(root.iterfind("object")):
        where = f"<object> #{index + 1}"
        name = _text(obj, "name", path, where)
        box = obj.find("bndbox")
        if box is None:
            raise ValueError(f"{path}: missing <bndbox> in {where} ({name!r})")
        where = f"<bndbox> of {where} ({name!r})"
        objects.append(
            VocObject(
                name=name,
                xmin=_number(box, "xmin", path, where),
                ymin=_number(box, "ymin", path, where),
                xmax=_number(box, "xmax", path, where),
                ymax=_number(box, "ymax", path, where),
                difficult=_flag(obj, "difficult"),
                truncated=_flag(obj, "truncated"),
            )
        )
    return VocAnnotation(xml_path=path, filename=filename, width=width, height=height, depth=depth, objects=objects)

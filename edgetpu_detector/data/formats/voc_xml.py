"""Parse one Pascal VOC annotation XML file (as written by LabelImg, VoTT, CVAT ...) safely with lxml.

Format source: the PASCAL VOC devkit annotation layout (``annotation/filename``, ``annotation/size/
{width,height,depth}``, ``annotation/object/{name,pose,truncated,difficult,bndbox/{xmin,ymin,xmax,
ymax}}``) as LabelImg's ``pascal_voc_io.py`` writes it. Coordinates are pixels; LabelImg writes
1-based integers, other tools write floats, both are accepted and returned unchanged as floats.
An object with a ``<polygon>`` instead of a ``<bndbox>`` (CVAT: ``<polygon><pt><x>..</x><y>..</y></pt>...``;
LabelMe-style ``<polygon><x1>..</x1><y1>..</y1>...``) gets the polygon's bounding box and
``polygon=True``. A missing, non-numeric or non-finite coordinate becomes NaN (the box is then skipped
by edgetpu_detector.data.annotation_checks, not the whole file); an object without ``<name>`` gets the name ``""``.

Security: annotation files come from users, so the parser never resolves entities, never loads a
DTD, never touches the network and keeps lxml's size limits (``huge_tree=False``); any document with
a DOCTYPE (the carrier of entity-expansion and external-entity attacks) is rejected: the raw bytes
are checked for ``<!DOCTYPE``/``<!ENTITY`` (in UTF-8/16/32) before any parsing, and files above
``MAX_XML_BYTES`` are refused unread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from pathlib import Path

from lxml import etree


@dataclass(frozen=True)
class VocObject:
    """One annotated object. Coordinates: float pixels as written in the XML (not clipped)."""

    name: str  # class name as written (edgetpu_detector.data.annotation_checks strips and reports whitespace)
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: bool = False
    truncated: bool = False
    polygon: bool = False  # the box is the bounding box of a <polygon>
    raw: str = ""  # the coordinates as written, for messages


@dataclass(frozen=True)
class VocAnnotation:
    """One parsed annotation file."""

    xml_path: Path
    filename: str | None  # <filename> as written (may be None when the tag is absent or empty)
    width: int  # <size><width>, pixels as written (not checked against the image)
    height: int  # <size><height>, pixels
    depth: int | None  # <size><depth>, channels, None when absent
    objects: list[VocObject] = field(default_factory=list)


MAX_XML_BYTES = 16 * 1024 * 1024  # a LabelImg file is a few KB; anything this big is not an annotation
_DOCTYPE_MARKERS = tuple(text.encode(codec) for text in ("<!DOCTYPE", "<!ENTITY")
                         for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))


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


def _coordinate(element, tag: str) -> tuple[float, str]:
    """(value, text as written); NaN when missing, not a number or not finite."""
    text = (element.findtext(tag) or "").strip()
    try:
        value = float(text)
    except ValueError:
        return math.nan, text
    return (value if math.isfinite(value) else math.nan), text


def _polygon_points(polygon) -> list[tuple[float, float]]:
    points = []
    for pt in polygon.iterfind("pt"):
        points.append((_coordinate(pt, "x")[0], _coordinate(pt, "y")[0]))
    index = 1
    while polygon.find(f"x{index}") is not None:
        points.append((_coordinate(polygon, f"x{index}")[0], _coordinate(polygon, f"y{index}")[0]))
        index += 1
    return points


def _object(obj) -> VocObject:
    name = obj.findtext("name") or ""
    flags = {"difficult": _flag(obj, "difficult"), "truncated": _flag(obj, "truncated")}
    box = obj.find("bndbox")
    if box is not None:
        values = [_coordinate(box, tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
        raw = ", ".join(f"{tag}={text!r}" for tag, (_, text) in zip(("xmin", "ymin", "xmax", "ymax"), values))
        return VocObject(name, *(v for v, _ in values), raw=raw, **flags)
    polygon = obj.find("polygon")
    if polygon is not None:
        points = _polygon_points(polygon)
        xs, ys = [x for x, _ in points], [y for _, y in points]
        raw = "polygon " + " ".join(f"({x:g},{y:g})" for x, y in points)
        if len(points) < 2 or any(math.isnan(v) for v in xs + ys):
            return VocObject(name, math.nan, math.nan, math.nan, math.nan, polygon=True, raw=raw, **flags)
        return VocObject(name, min(xs), min(ys), max(xs), max(ys), polygon=True, raw=raw, **flags)
    return VocObject(name, math.nan, math.nan, math.nan, math.nan, raw="no <bndbox> or <polygon>", **flags)


def parse_voc_xml(path) -> VocAnnotation:
    """Parse one Pascal VOC XML file.

    Returns:
        VocAnnotation with size in pixels (ints as written) and objects whose boxes are float pixels
        ``xmin, ymin, xmax, ymax`` as written (no clipping or ordering check: see edgetpu_detector.data.annotation_checks).

    Raises:
        ValueError: naming the file and the problem: malformed XML, a DOCTYPE/DTD or entity, a root
            other than <annotation>, or missing or non-numeric <size>/<width>/<height>. (Bad objects
            do not raise: see the module docstring.)
        OSError: when the file cannot be read.
    """
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise ValueError(f"{path}: annotation XML is larger than {MAX_XML_BYTES} bytes")
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        # Rejected before parsing: nothing declared in it (entities, external DTDs) is ever looked at.
        raise ValueError(f"{path}: XML with a DOCTYPE/DTD is rejected (entities are not allowed)")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _safe_parser()))
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

    objects = [_object(obj) for obj in root.iterfind("object")]
    return VocAnnotation(xml_path=path, filename=filename, width=width, height=height, depth=depth, objects=objects)

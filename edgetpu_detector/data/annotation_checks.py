"""Turn one RawAnnotation into a validated ImageRecord, reporting every defect (codes in edgetpu_detector.data.issues).

Checks, in order, each with its policy:

1. image file: found inside the dataset folder (edgetpu_detector.data.image_finder), else ``image_missing`` /
   ``ambiguous_name`` / ``path_outside_dataset`` (image skipped); a differing name is
   ``filename_mismatch`` (fixed: the found image is used); unusual characters ``unusual_name`` (kept).
2. image header (no pixel decoded): unreadable -> ``image_unreadable``, above the pixel limit ->
   ``image_too_large`` (skipped); data not matching the extension -> ``format_mismatch``, mode other
   than RGB -> ``converted_to_rgb`` (fixed when encoding). Truncated data is found when encoding.
3. EXIF orientation (tags 5-8 swap the axes): the boxes are in the rotated frame when the annotation's
   size equals the rotated size but not the stored one -> ``exif_rotated`` (pixels rotated with
   ``PIL.ImageOps.exif_transpose``); otherwise the stored frame is used (LabelImg/Qt 5 shows stored
   pixels) -> ``exif_ignored`` (the image is re-encoded without the tag, so every reader sees the
   pixels the boxes belong to). Tags 2-4 (mirror/180) are handled the same way, by the stored frame.
4. annotation size differing from the real one -> ``size_mismatch`` (real size used, boxes kept as
   written and clipped).
5. boxes: surrounding whitespace in the class -> ``label_variant`` (stripped); class empty ->
   ``label_empty``, class not nameable -> ``label_not_in_map``, a missing/NaN coordinate ->
   ``box_invalid`` (skipped); polygon -> ``polygon`` (bounding box); min > max -> ``box_inverted``
   (swapped); partly outside -> ``box_clipped``; no area inside the image -> ``box_empty`` (skipped).
   Float coordinates are kept unrounded (counted as ``boxes_float``).
"""
from __future__ import annotations

import math
from pathlib import Path
import unicodedata

from edgetpu_detector.data.formats.base import PathOutside, RawAnnotation
from edgetpu_detector.data.image_finder import ImageFinder, NotFound
from edgetpu_detector.data.issues import Issues
from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS, ImageTooLarge, extension_format, probe_image
from edgetpu_detector.tfrecord.encoder import record_image_bytes
from edgetpu_detector.tfrecord.records import Box, ImageRecord

_UNUSUAL = (" ", "#", "=")


def unusual_characters(name: str) -> list[str]:
    """The characters of a file name that break some tools: space, '#', '=' and non-ASCII ones (in order, unique)."""
    found = []
    for char in name:
        if (char in _UNUSUAL or ord(char) > 127) and char not in found:
            found.append(char)
    return found


def _describe(chars) -> str:
    names = {" ": "space", "#": "'#'", "=": "'='"}
    return ", ".join(names.get(c, f"{c!r} ({unicodedata.name(c, 'U+%04X' % ord(c))})") for c in chars)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def check_boxes(raw: RawAnnotation, width: int, height: int, issues: Issues, file) -> list[Box]:
    """Validate, fix or skip each object of ``raw`` for an image of ``width`` x ``height`` pixels.

    Returns the kept boxes (float pixels, clipped; class names stripped; the ``difficult`` and ``truncated``
    flags as written). Every fix and skip is reported.
    """
    boxes = []
    at = f" ({raw.where})" if raw.where else ""
    for obj in raw.objects:
        name = obj.name.strip()
        shown = f"box {name!r}" if name else "box"
        if obj.problem:
            issues.counts["boxes_skipped"] += 1
            issues.add(obj.problem_code, file, f"{obj.problem}{at}: {obj.raw}", "box skipped")
            continue
        if not name:
            issues.counts["boxes_skipped"] += 1
            issues.add("label_empty", file, f"object without a class name{at}: {obj.raw}", "box skipped")
            continue
        if name != obj.name:
            issues.add("label_variant", file, f"class {obj.name!r} has surrounding whitespace{at}",
                       f"renamed to {name!r}")
        coords = [obj.xmin, obj.ymin, obj.xmax, obj.ymax]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in coords):
            issues.counts["boxes_skipped"] += 1
            issues.add("box_invalid", file, f"{shown} has a missing or non-numeric coordinate{at}: {obj.raw}",
                       "box skipped")
            continue
        if obj.normalized:
            coords = [coords[0] * width, coords[1] * height, coords[2] * width, coords[3] * height]
        xmin, ymin, xmax, ymax = (float(v) for v in coords)
        written = f"({_fmt(xmin)}, {_fmt(ymin)}, {_fmt(xmax)}, {_fmt(ymax)})"
        if obj.polygon:
            issues.add("polygon", file, f"{shown} is a polygon{at}: {obj.raw}", f"used its bounding box {written}")
        if xmin > xmax or ymin > ymax:
            xmin, xmax = min(xmin, xmax), max(xmin, xmax)
            ymin, ymax = min(ymin, ymax), max(ymin, ymax)
            fixed = f"({_fmt(xmin)}, {_fmt(ymin)}, {_fmt(xmax)}, {_fmt(ymax)})"
            issues.add("box_inverted", file, f"{shown} {written} has min > max{at}", f"corners swapped to {fixed}")
            written = fixed
        if not obj.normalized and any(not float(v).is_integer() for v in (xmin, ymin, xmax, ymax)):
            issues.counts["boxes_float"] += 1
        clipped = (min(max(xmin, 0.0), float(width)), min(max(ymin, 0.0), float(height)),
                   min(max(xmax, 0.0), float(width)), min(max(ymax, 0.0), float(height)))
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            issues.counts["boxes_skipped"] += 1
            issues.add("box_empty", file, f"{shown} {written} has no area inside the {width}x{height} image{at}",
                       "box skipped")
            continue
        if clipped != (xmin, ymin, xmax, ymax):
            issues.counts["boxes_clipped"] += 1
            fixed = "(" + ", ".join(_fmt(v) for v in clipped) + ")"
            issues.add("box_clipped", file, f"{shown} {written} extends outside the {width}x{height} image{at}",
                       f"clipped to {fixed}")
        boxes.append(Box(name, *clipped, difficult=bool(obj.difficult), truncated=bool(obj.truncated)))
    return boxes


def _skip(issues: Issues, code: str, file, problem: str, boxes: int) -> None:
    issues.counts["images_skipped"] += 1
    issues.counts["boxes_skipped"] += boxes
    suffix = f" ({boxes} boxes)" if boxes else ""
    issues.add(code, file, problem, f"image skipped{suffix}")


def validate(raw: RawAnnotation, finder: ImageFinder, issues: Issues,
             max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageRecord | None:
    """Validate one annotation (see the module docstring); None when its image is skipped (reported).

    Counters updated in ``issues.counts``: ``boxes_in``, ``boxes_skipped``, ``boxes_clipped``,
    ``boxes_float``, ``size_mismatches``, ``images_skipped``.
    """
    n_boxes = len(raw.objects)
    issues.counts["boxes_in"] += n_boxes
    file = raw.source
    at = f" ({raw.where})" if raw.where else ""
    if raw.image_path is not None:
        image_path, note = raw.image_path, None
    else:
        try:
            image_path, note = finder.find(raw.image_name, raw.search_dirs, raw.source, raw.stem_fallback, raw.split)
        except PathOutside as exc:
            _skip(issues, "path_outside_dataset", file, f"{exc}{at}; never read", n_boxes)
            return None
        except NotFound as exc:
            _skip(issues, "ambiguous_name" if exc.ambiguous else "image_missing", file, f"{exc}{at}", n_boxes)
            return None
        except ValueError as exc:
            _skip(issues, "image_missing", file, f"{exc}{at}", n_boxes)
            return None
    relpath = issues.rel(image_path)
    if raw.record_offset is not None:  # keep the source Example's key; else "<file>#<offset>"
        relpath = raw.source_id or f"{relpath}#{raw.record_offset}"
    if note:
        issues.add("filename_mismatch", file, note + at, f"used {relpath}")
    if raw.record_offset is None:
        odd = unusual_characters(image_path.name)
        if odd:
            issues.add("unusual_name", image_path, f"file name has {_describe(odd)}",
                       "kept (names are stored as UTF-8 in the records)")
    try:
        source = image_path if raw.record_offset is None else record_image_bytes(image_path, raw.record_offset)
        header = probe_image(source, max_pixels)
    except ImageTooLarge as exc:
        _skip(issues, "image_too_large", relpath, str(exc), n_boxes)
        return None
    except (ValueError, OSError, KeyError, IndexError) as exc:
        _skip(issues, "image_unreadable", relpath, f"image cannot be read: {exc}", n_boxes)
        return None
    expected = extension_format(image_path) if raw.record_offset is None else "JPEG"
    if expected and header.format and header.format != expected:
        kind = "the record holds" if raw.record_offset is not None else f"file extension {image_path.suffix!r} but"
        issues.add("format_mismatch", relpath, f"{kind} {header.format} data", "re-encoded as JPEG")
    if header.mode != "RGB":
        issues.add("converted_to_rgb", relpath, f"image mode {header.mode} ({header.format})",
                   "converted to 3-channel RGB JPEG")
    width, height = header.width, header.height
    transpose = reencode = False
    if header.orientation != 1:
        declared = (raw.width, raw.height)
        if header.orientation in (5, 6, 7, 8) and declared == (height, width) and declared != (width, height):
            width, height, transpose = height, width, True
            issues.add("exif_rotated", relpath, f"EXIF orientation {header.orientation}; the annotation's size "
                       f"{raw.width}x{raw.height} is the rotated image's", "pixels rotated to the annotation's frame")
        else:
            reencode = True
            stated = (f"the annotation's size {raw.width}x{raw.height} is the stored image's" if raw.width
                      else "the annotation states no size")
            issues.add("exif_ignored", relpath, f"EXIF orientation {header.orientation}; {stated}",
                       "stored pixels kept, orientation tag dropped (re-encoded)")
    if raw.width is not None and raw.height is not None and (raw.width, raw.height) != (width, height):
        issues.counts["size_mismatches"] += 1
        issues.add("size_mismatch", file, f"annotation size {raw.width}x{raw.height} differs from the image "
                   f"size {width}x{height}{at}", "used the image size; boxes kept as written and clipped to it")
    boxes = check_boxes(raw, width, height, issues, file)
    return ImageRecord(image_path=Path(image_path).resolve(), xml_path=Path(raw.source).resolve(), relpath=relpath,
                       width=width, height=height, boxes=boxes, exif_transpose=transpose, split=raw.split,
                       record_offset=raw.record_offset, boxes_in=n_boxes,
                       source_name=raw.image_name if raw.record_offset is not None else None,
                       reencode=reencode or header.mode != "RGB" or header.format != "JPEG")

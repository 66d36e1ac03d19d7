"""Reader for Pascal VOC XML folders (LabelImg, CVAT and VoTT exports): one ``.xml`` per image.

Images are looked for beside each XML and in the image folder beside an annotation folder
(``annotations``/``annots``/``Annotations``/``xml``/``labels`` -> ``images``/``JPEGImages``/``imgs``), by
the XML's ``<filename>`` and then by the XML's own stem. ``<difficult>`` and ``<truncated>`` are carried. Parsing is edgetpu_detector.data.formats.voc_xml's (DTD/entities rejected).
"""
from __future__ import annotations

from pathlib import Path

from edgetpu_detector.data.formats.base import RawAnnotation, RawObject, Unreadable, list_files, split_of_path
from edgetpu_detector.data.formats.voc_xml import parse_voc_xml

NAME = "voc"
_ANNOTATION_DIRS = {"annotations", "annots", "annotation", "xml", "labels"}
_IMAGE_DIRS = ("images", "JPEGImages", "imgs")


def annotation_files(data_dir: Path) -> list[Path]:
    """Every ``.xml`` file under ``data_dir`` (sorted, hidden ones left out)."""
    return list_files(data_dir, lambda p: p.suffix.lower() == ".xml")


def detect(data_dir: Path) -> bool:
    """True when the folder holds at least one ``.xml`` file."""
    return bool(annotation_files(data_dir))


def image_dirs(xml_dir: Path) -> list[Path]:
    """Folders to look for an XML's image in, in order."""
    dirs = [xml_dir]
    if xml_dir.name.lower() in _ANNOTATION_DIRS:
        dirs += [xml_dir.parent / name for name in _IMAGE_DIRS if (xml_dir.parent / name).is_dir()]
    return dirs


def read(data_dir: Path, files=None):
    """Yield a RawAnnotation (or Unreadable) per XML file, in sorted path order."""
    for path in files if files is not None else annotation_files(data_dir):
        try:
            annotation = parse_voc_xml(path)
        except ValueError as exc:
            code = "annotation_unsafe" if ("DOCTYPE" in str(exc) or "entit" in str(exc)) else "annotation_invalid"
            yield Unreadable(path, code, str(exc).replace(f"{path}: ", "", 1))
            continue
        except OSError as exc:
            yield Unreadable(path, "annotation_invalid", f"cannot be read: {exc}")
            continue
        objects = [RawObject(o.name, o.xmin, o.ymin, o.xmax, o.ymax, polygon=o.polygon, raw=o.raw,
                             difficult=o.difficult, truncated=o.truncated) for o in annotation.objects]
        yield RawAnnotation(source=path, image_name=annotation.filename, search_dirs=image_dirs(path.parent),
                            width=annotation.width, height=annotation.height, objects=objects,
                            split=split_of_path(path, data_dir))

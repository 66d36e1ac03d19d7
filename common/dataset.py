"""Discover and validate a LabelImg (Pascal VOC) dataset folder and split it into train and test.

Layouts found (``data_dir`` is searched recursively, in sorted order):

* predefined split: directories named ``train`` and ``test`` somewhere under ``data_dir`` (e.g.
  ``train/``, ``images/train`` or fruit_nuts' ``data/images/train``); each annotation belongs to
  the split of the nearest such directory above it. Annotations under neither are reported and
  left out.
* no such pair: every annotation under ``data_dir`` (a flat folder, or ``images/`` + ``annotations/``
  folders like the raccoon dataset, or VoTT's ``images/`` + ``annots/``) is split by a seeded
  shuffle: ``round(n * test_fraction)`` images go to test, deterministically for a given seed.

Image lookup for an XML file in directory D: the XML's ``<filename>`` (its base name only, any
directories in it are ignored), then the XML's stem with an image extension (case-insensitive),
first in D and then in image folders beside D when D is an annotation folder (``annotations`` or
``annots`` -> ``images``, ``Annotations`` -> ``JPEGImages``). A file that resolves (through links)
outside ``data_dir`` is never read.

Validation (every problem becomes a warning ``{"file", "problem", "action"}``, file relative to
``data_dir``; nothing valid is dropped):

* XML that fails to parse (see common.voc) or whose image is missing/unreadable: image skipped.
* XML ``<size>`` differing from the real image size: the real size is used, boxes are kept as
  written (no rescaling) and clipped to the real image.
* box partly outside the image: clipped to ``[0, width] x [0, height]``, counted.
* box with zero or negative area after clipping, or an empty class name: box skipped, counted.
* two XML files naming the same image: the second is skipped.
* image without any box: kept (a background image, as the TF OD API allows), reported.

EXIF orientation: LabelImg (Qt 5) shows and annotates the stored pixels, so stored pixels are kept
unless the orientation tag swaps width and height (5-8) and the XML size equals the rotated size but
not the stored one; then the annotator saw the rotated image and ``ImageRecord.exif_transpose`` is
True (the TFRecord writer then applies ``PIL.ImageOps.exif_transpose``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import NamedTuple

from PIL import Image

from common.voc import parse_voc_xml

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_ANNOTATION_DIR_TO_IMAGE_DIRS = {
    "annotations": ("images", "JPEGImages", "imgs"),
    "annots": ("images", "JPEGImages", "imgs"),
    "annotation": ("images", "JPEGImages", "imgs"),
    "xml": ("images", "JPEGImages", "imgs"),
    "labels": ("images", "JPEGImages", "imgs"),
}
_EXIF_ORIENTATION = 0x0112
_SPLIT_DIRS = ("train", "test")


class Box(NamedTuple):
    """One box: class name and float pixel coordinates, clipped to the image (0 <= min < max <= size)."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


@dataclass
class ImageRecord:
    """One annotated image ready to be written."""

    image_path: Path  # absolute path of the image file
    xml_path: Path  # absolute path of the annotation file
    relpath: str  # image path relative to data_dir, POSIX separators (unique key)
    width: int  # pixels of the image as it will be encoded (after any EXIF transpose)
    height: int
    boxes: list[Box] = field(default_factory=list)
    exif_transpose: bool = False  # apply PIL.ImageOps.exif_transpose before encoding

    @property
    def filename(self) -> str:
        """Base name of the image file."""
        return self.image_path.name


@dataclass
class Dataset:
    """A discovered, validated dataset split into train and test."""

    data_dir: Path
    train: list[ImageRecord]
    test: list[ImageRecord]
    split_source: str  # "folders" (train/ and test/ found) or "ratio" (seeded split)
    warnings: list[dict] = field(default_factory=list)  # {"file", "problem", "action"}
    counts: dict = field(default_factory=dict)  # see discover_dataset

    @property
    def class_names(self) -> list[str]:
        """Sorted class names present in either split."""
        return sorted({box.label for record in self.train + self.test for box in record.boxes})


class _Report:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.warnings: list[dict] = []
        self.counts = {
            "xml_files": 0,
            "images_kept": 0,
            "images_skipped": 0,
            "images_without_boxes": 0,
            "boxes_kept": 0,
            "boxes_clipped": 0,
            "boxes_skipped": 0,
            "size_mismatches": 0,
            "xml_outside_splits": 0,
        }

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            return str(path)

    def warn(self, path: Path, problem: str, action: str) -> None:
        self.warnings.append({"file": self.rel(path), "problem": problem, "action": action})


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _image_dirs(xml_dir: Path) -> list[Path]:
    dirs = [xml_dir]
    for name in _ANNOTATION_DIR_TO_IMAGE_DIRS.get(xml_dir.name.lower(), ()):
        candidate = xml_dir.parent / name
        if candidate.is_dir():
            dirs.append(candidate)
    return dirs


def _find_image(xml_path: Path, filename: str | None, data_dir: Path) -> Path | None:
    """Resolve the image of an annotation (see module docstring); None when not found inside data_dir."""
    names = []
    if filename:
        # <filename> may hold a Windows or POSIX path: keep the base name only (never walk up).
        base = PureWindowsPath(filename).name
        base = Path(base).name
        if base not in ("", ".", ".."):
            names.append(base)
    stems = [xml_path.stem] + ([Path(names[0]).stem] if names and Path(names[0]).suffix == "" else [])
    for directory in _image_dirs(xml_path.parent):
        for name in names:
            candidate = directory / name
            if candidate.is_file() and _is_inside(candidate, data_dir):
                return candidate
        entries = sorted(p for p in directory.iterdir() if p.is_file())
        by_lower = {}
        for entry in entries:
            by_lower.setdefault(entry.name.lower(), entry)
        for name in names:  # same name, different case (e.g. .JPG vs .jpg)
            candidate = by_lower.get(name.lower())
            if candidate is not None and _is_inside(candidate, data_dir):
                return candidate
        for stem in stems:
            for entry in entries:
                if entry.stem == stem and entry.suffix.lower() in IMAGE_EXTENSIONS and _is_inside(entry, data_dir):
                    return entry
    return None


def oriented_size(image: Image.Image, xml_width: int, xml_height: int) -> tuple[int, int, bool]:
    """Return (width, height, exif_transpose) for an opened image and the size its XML states.

    See the module docstring for the EXIF rule: transpose only when the orientation tag swaps the
    axes and the XML size matches the swapped size but not the stored one.
    """
    width, height = image.size
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
        orientation = 1
    if orientation in (5, 6, 7, 8) and (xml_width, xml_height) == (height, width) != (width, height):
        return height, width, True
    return width, height, False


def _clip_boxes(annotation, width: int, height: int, report: _Report, xml_path: Path) -> list[Box]:
    boxes = []
    for obj in annotation.objects:
        name = obj.name.strip()
        coords = (obj.xmin, obj.ymin, obj.xmax, obj.ymax)
        if not name:
            report.counts["boxes_skipped"] += 1
            report.warn(xml_path, f"object with an empty class name at {coords}", "box skipped")
            continue
        clipped = (
            min(max(obj.xmin, 0.0), float(width)),
            min(max(obj.ymin, 0.0), float(height)),
            min(max(obj.xmax, 0.0), float(width)),
            min(max(obj.ymax, 0.0), float(height)),
        )
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            report.counts["boxes_skipped"] += 1
            report.warn(
                xml_path,
                f"box {name!r} {coords} has no area inside the {width}x{height} image",
                "box skipped",
            )
            continue
        if clipped != coords:
            report.counts["boxes_clipped"] += 1
            report.warn(
                xml_path,
                f"box {name!r} {coords} extends outside the {width}x{height} image",
                f"clipped to {clipped}",
            )
        boxes.append(Box(name, *clipped))
    return boxes


def load_record(xml_path: Path, data_dir: Path, report: _Report) -> ImageRecord | None:
    """Parse, resolve and validate one annotation; None (with a warning) when the image is skipped."""
    try:
        annotation = parse_voc_xml(xml_path)
    except (ValueError, OSError) as exc:
        report.warn(xml_path, str(exc), "image skipped")
        return None
    image_path = _find_image(xml_path, annotation.filename, data_dir)
    if image_path is None:
        report.warn(xml_path, f"image {annotation.filename!r} not found beside the annotation", "image skipped")
        return None
    try:
        with Image.open(image_path) as image:
            width, height, transpose = oriented_size(image, annotation.width, annotation.height)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        report.warn(image_path, f"image cannot be read: {exc}", "image skipped")
        return None
    if (annotation.width, annotation.height) != (width, height):
        report.counts["size_mismatches"] += 1
        report.warn(
            xml_path,
            f"XML size {annotation.width}x{annotation.height} differs from the image size {width}x{height}",
            "used the image size; boxes kept as written and clipped to it",
        )
    boxes = _clip_boxes(annotation, width, height, report, xml_path)
    return ImageRecord(
        image_path=image_path.resolve(),
        xml_path=xml_path.resolve(),
        relpath=report.rel(image_path),
        width=width,
        height=height,
        boxes=boxes,
        exif_transpose=transpose,
    )


def _split_of(xml_path: Path, data_dir: Path) -> str | None:
    """Nearest enclosing directory named train/test (case-insensitive) below data_dir, else None."""
    for part in reversed(xml_path.relative_to(data_dir).parts[:-1]):
        if part.lower() in _SPLIT_DIRS:
            return part.lower()
    return None


def seeded_split(items: list, test_fraction: float, seed: int) -> tuple[list, list]:
    """Split a sorted list into (train, test) with a seeded shuffle; each part keeps the input order.

    ``round(len(items) * test_fraction)`` items go to test (at least 1 when test_fraction > 0 and
    there are 2 or more items). Deterministic for the same items and seed (``random.Random(seed)``).

    Raises:
        ValueError: when test_fraction is not in [0, 1).
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(len(items) * test_fraction))
    if test_fraction > 0 and n_test == 0 and len(items) >= 2:
        n_test = 1
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    test_index = set(order[:n_test])
    train = [item for i, item in enumerate(items) if i not in test_index]
    test = [item for i, item in enumerate(items) if i in test_index]
    return train, test


def discover_dataset(data_dir, test_fraction: float = 0.2, seed: int = 42, progress: bool = False) -> Dataset:
    """Find, parse and validate every annotation under ``data_dir`` and split train/test.

    Args:
        data_dir: dataset folder (see module docstring for the layouts).
        test_fraction: share of images for test when no train/ + test/ folders exist, in [0, 1).
        seed: seed of the split shuffle.
        progress: show a tqdm bar while reading annotations.

    Returns:
        Dataset with records in sorted path order within each split, the warnings and counts
        (``xml_files, images_kept, images_skipped, images_without_boxes, boxes_kept, boxes_clipped,
        boxes_skipped, size_mismatches, xml_outside_splits``).

    Raises:
        FileNotFoundError: when data_dir is not a directory.
        ValueError: when no annotation XML is found, no image survives validation, or
            test_fraction is out of range.
    """
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: dataset folder not found")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    xml_files = sorted(
        (p for p in data_dir.rglob("*") if p.suffix.lower() == ".xml" and p.is_file()),
        key=lambda p: p.relative_to(data_dir).as_posix(),
    )
    xml_files = [p for p in xml_files if not any(part.startswith(".") for part in p.relative_to(data_dir).parts)]
    if not xml_files:
        raise ValueError(f"{data_dir}: no Pascal VOC annotation (.xml) files found")
    report = _Report(data_dir)
    report.counts["xml_files"] = len(xml_files)

    splits = {path: _split_of(path, data_dir) for path in xml_files}
    use_folders = {"train", "test"} <= set(splits.values())

    iterator = xml_files
    if progress:
        from tqdm import tqdm

        iterator = tqdm(xml_files, desc="annotations", unit="xml")
    records: dict[str, list[ImageRecord]] = {"train": [], "test": [], "all": []}
    seen_images: dict[Path, Path] = {}
    for xml_path in iterator:
        split = splits[xml_path] if use_folders else "all"
        if split is None:
            report.counts["xml_outside_splits"] += 1
            report.warn(xml_path, "annotation is under neither a train/ nor a test/ folder", "image skipped")
            continue
        record = load_record(xml_path, data_dir, report)
        if record is None:
            report.counts["images_skipped"] += 1
            continue
        if record.image_path in seen_images:
            report.counts["images_skipped"] += 1
            first = report.rel(seen_images[record.image_path])
            report.warn(xml_path, f"image {record.relpath} is already annotated by {first}", "image skipped")
            continue
        seen_images[record.image_path] = xml_path
        report.counts["boxes_kept"] += len(record.boxes)
        if not record.boxes:
            report.counts["images_without_boxes"] += 1
            report.warn(xml_path, "no valid boxes", "kept as an image without objects")
        records[split].append(record)

    if use_folders:
        train, test = records["train"], records["test"]
    else:
        train, test = seeded_split(records["all"], test_fraction, seed)
    report.counts["images_kept"] = len(train) + len(test)
    if not train and not test:
        raise ValueError(f"{data_dir}: no usable annotated image (see warnings: {report.warnings[:3]})")
    return Dataset(
        data_dir=data_dir,
        train=train,
        test=test,
        split_source="folders" if use_folders else "ratio",
        warnings=report.warnings,
        counts=report.counts,
    )

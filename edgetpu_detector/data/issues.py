"""Dataset defects: their codes, documented policies, and the collector every reader and check reports to.

Each defect found in a dataset becomes one issue ``{"code", "file", "problem", "action"}``: ``file`` is
relative to the dataset folder (POSIX separators), ``problem`` names what is wrong, ``action`` says what
was done. ``POLICIES`` is the documented policy of every code: ``fix`` (repaired, kept), ``skip``
(left out and counted) or ``keep`` (used unchanged, reported). Errors that make the whole run
impossible (no dataset, no usable image, an invalid label map) are raised as exceptions instead.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

# code -> (policy, what it means)
POLICIES = {
    # files
    "image_missing": ("skip", "the annotation names an image that is not in the dataset folder"),
    "annotation_missing": ("skip", "an image without any annotation file or entry (not used)"),
    "filename_mismatch": ("fix", "the annotation's file name disagrees with the image found for it; the found image is used"),
    "duplicate_image": ("skip", "a second annotation of an image already annotated; the first one is used"),
    "ambiguous_name": ("skip", "the annotation's file name matches several images in different folders"),
    "unusual_name": ("keep", "a file name with spaces, '#', '=' or non-ASCII characters (breaks some tools); kept"),
    "path_outside_dataset": ("skip", "a file name or path (or link) that leads outside the dataset folder"),
    "annotation_invalid": ("skip", "an annotation file or entry that cannot be parsed"),
    "annotation_unsafe": ("skip", "XML with a DOCTYPE/DTD or entities (XXE, entity-expansion bombs)"),
    "outside_splits": ("skip", "an annotation under none of the train/test/val folders when the dataset has them"),
    "csv_ignored": ("skip", "a CSV that is not a split file while split CSVs (train/test/val) exist"),
    # images
    "image_unreadable": ("skip", "a truncated or corrupt image file"),
    "image_too_large": ("skip", "an image above the pixel limit (decompression-bomb guard)"),
    "format_mismatch": ("fix", "the file extension disagrees with the image data (e.g. PNG saved as .jpg); re-encoded as JPEG"),
    "converted_to_rgb": ("fix", "a non-RGB image (RGBA, LA, P, CMYK, 16-bit, grayscale) converted to 3-channel RGB"),
    "size_mismatch": ("fix", "the annotation's image size differs from the real image; the real size is used, boxes clipped to it"),
    "exif_rotated": ("fix", "EXIF orientation: the annotation is in the rotated frame; pixels rotated to match"),
    "exif_ignored": ("fix", "EXIF orientation: the annotation is in the stored frame; stored pixels kept, tag dropped"),
    # boxes
    "box_clipped": ("fix", "a box partly outside the image, clipped to it"),
    "box_inverted": ("fix", "a box with min > max, corners swapped"),
    "box_empty": ("skip", "a box with zero or negative area (after clipping), or entirely outside the image"),
    "box_invalid": ("skip", "a box with a missing, non-numeric, NaN or infinite coordinate"),
    "polygon": ("fix", "a polygon object instead of a box; its bounding box is used"),
    "shape_unsupported": ("skip", "a labelme shape that is no box (circle, line, point, mask)"),
    "difficult_ignored": ("skip", "difficult boxes left out of the train split (ignore_difficult=true)"),
    # labels
    "label_empty": ("skip", "an object without a class name"),
    "label_variant": ("fix", "a class name differing from the canonical one only in case or surrounding whitespace; renamed"),
    "label_not_in_map": ("skip", "a class that the given label map does not name (or a class index out of range)"),
    "no_objects": ("keep", "an image without objects, kept as a negative (background) example"),
    "class_unused": ("keep", "a label-map class without boxes in the data; kept in the label map"),
}


class Issues:
    """Collects issues and counters while a dataset is read, validated and written.

    ``counts`` holds the integer counters (``images_in``, ``boxes_in``, ``boxes_skipped`` ...);
    ``by_code`` counts issues per code.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.items: list[dict] = []
        self.counts: Counter = Counter()

    def rel(self, path) -> str:
        """``path`` relative to the dataset folder (POSIX), or as given when outside it."""
        path = Path(path)
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            try:
                return path.resolve().relative_to(self.data_dir).as_posix()
            except (ValueError, OSError):
                return str(path)

    def add(self, code: str, file, problem: str, action: str) -> None:
        """Record one issue (``code`` must be in ``POLICIES``)."""
        if code not in POLICIES:
            raise KeyError(f"unknown issue code {code!r}")
        self.items.append({"code": code, "file": self.rel(file) if not isinstance(file, str) else file,
                           "problem": problem, "action": action})

"""The validated, format-independent description of one image and its boxes (what a TFRecord Example holds)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Box(NamedTuple):
    """One box: class name and float pixel coordinates, clipped to the image (0 <= min < max <= size), and the
    PASCAL VOC flags: ``difficult`` (hard to recognize; evaluation treats it as "don't care"), ``truncated``
    (the object extends beyond the box or the image)."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: bool = False
    truncated: bool = False


@dataclass
class ImageRecord:
    """One annotated image ready to be written.

    ``image_path`` is the image file, or the TFRecord file holding it when ``record_offset`` is set
    (TFRecord pass-through input: the byte offset of its record in that file).
    """

    image_path: Path  # absolute path of the image file (or of the source TFRecord)
    xml_path: Path  # absolute path of the annotation file (any format; name kept for compatibility)
    relpath: str  # image path relative to data_dir, POSIX separators (unique key)
    width: int  # pixels of the image as it will be encoded (after any EXIF transpose)
    height: int
    boxes: list[Box] = field(default_factory=list)
    exif_transpose: bool = False  # apply PIL.ImageOps.exif_transpose before encoding
    split: str | None = None  # "train", "test", "val" when the input says so
    record_offset: int | None = None  # TFRecord input: offset of the record in image_path
    boxes_in: int = 0  # objects the annotation held for this image (kept + skipped)
    reencode: bool = False  # never pass the source bytes through (e.g. EXIF orientation dropped)
    source_name: str | None = None  # TFRecord input: the source Example's image/filename

    @property
    def filename(self) -> str:
        """Base name of the image file (the source Example's image/filename for TFRecord input)."""
        if self.record_offset is not None:
            return self.source_name or Path(self.relpath).name
        return self.image_path.name

    @property
    def annotation_path(self) -> Path:
        """The annotation file this record was read from."""
        return self.xml_path

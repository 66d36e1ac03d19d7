"""Encode one ImageRecord into a serialized tf.train.Example (TF OD API schema), without TensorFlow.

Runs in the encoding worker processes of common.record_writer, so it imports only Pillow, NumPy and
protobuf. The schema is common.tfrecord's; image bytes follow common.images (pass-through or RGB
JPEG re-encode, full decode, pixel limit).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from common.example_proto import parse_example_features, serialize_example
from common.images import DEFAULT_MAX_PIXELS, ImageTooLarge, jpeg_for_record
from common.records import ImageRecord
from common.tfrecord_file import read_record_at


@dataclass
class Encoded:
    """Result for one record: ``serialized`` Example bytes, or ``None`` with the issue ``code`` and ``problem``."""

    serialized: bytes | None
    code: str = ""
    problem: str = ""
    passthrough: bool = False  # the source JPEG bytes were written unchanged


def source_bytes(record: ImageRecord) -> bytes:
    """The original bytes of the record's image (file contents, or image/encoded of the source TFRecord)."""
    if record.record_offset is None:
        return Path(record.image_path).read_bytes()
    return parse_example_features(read_record_at(record.image_path, record.record_offset))["image/encoded"][0]


def example_features(record: ImageRecord, names_to_ids: dict[str, int], encoded: bytes, width: int,
                     height: int) -> dict:
    """The feature dict of one Example (keys and types in common.tfrecord's module docstring)."""
    boxes = record.boxes
    return {
        "image/height": [int(height)],
        "image/width": [int(width)],
        "image/filename": [record.filename.encode("utf-8")],
        "image/source_id": [record.relpath.encode("utf-8")],
        "image/key/sha256": [hashlib.sha256(encoded).hexdigest().encode("ascii")],
        "image/encoded": [encoded],
        "image/format": [b"jpeg"],
        "image/object/bbox/xmin": ("float", [b.xmin / width for b in boxes]),
        "image/object/bbox/xmax": ("float", [b.xmax / width for b in boxes]),
        "image/object/bbox/ymin": ("float", [b.ymin / height for b in boxes]),
        "image/object/bbox/ymax": ("float", [b.ymax / height for b in boxes]),
        "image/object/class/text": ("bytes", [b.label.encode("utf-8") for b in boxes]),
        "image/object/class/label": ("int", [names_to_ids[b.label] for b in boxes]),
    }


def encode_record(record: ImageRecord, names_to_ids: dict[str, int],
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> Encoded:
    """Read, check and encode one image; never raises for bad image data (returns the issue instead).

    Issue codes: ``image_unreadable`` (truncated/corrupt/vanished), ``image_too_large``, ``size_mismatch``
    (decoded size differs from the validated one: the file changed since validation).

    Raises:
        KeyError: a box class missing from ``names_to_ids`` (a programming error: labels are validated).
    """
    try:
        raw = source_bytes(record)
        encoded, width, height = jpeg_for_record(raw, record.exif_transpose, record.reencode, max_pixels)
    except ImageTooLarge as exc:
        return Encoded(None, "image_too_large", str(exc))
    except (ValueError, OSError, KeyError, IndexError) as exc:
        return Encoded(None, "image_unreadable", str(exc))
    if (width, height) != (record.width, record.height):
        return Encoded(None, "size_mismatch", f"decoded image is {width}x{height}, validation found "
                       f"{record.width}x{record.height} (file changed?)")
    features = example_features(record, names_to_ids, encoded, width, height)
    return Encoded(serialize_example(features), passthrough=encoded is raw)


def encode_chunk(records: list[ImageRecord], names_to_ids: dict[str, int], max_pixels: int) -> list[Encoded]:
    """``encode_record`` over a list (the unit of work sent to a worker process)."""
    return [encode_record(record, names_to_ids, max_pixels) for record in records]

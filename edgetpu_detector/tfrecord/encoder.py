"""Encode one ImageRecord into a serialized tf.train.Example (TF OD API schema), without TensorFlow.

Runs in the encoding worker processes of edgetpu_detector.tfrecord.writer, so it imports only Pillow, NumPy and
protobuf. The schema is ``edgetpu_detector.tfrecord.schema``; image bytes follow ``edgetpu_detector.images.jpeg``
(pass-through or RGB JPEG re-encode, full decode, pixel limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS, ImageTooLarge
from edgetpu_detector.images.jpeg import jpeg_for_record
from edgetpu_detector.tfrecord import schema
from edgetpu_detector.tfrecord.example_proto import parse_example_features, serialize_example
from edgetpu_detector.tfrecord.file import read_record_at
from edgetpu_detector.tfrecord.records import ImageRecord


@dataclass
class Encoded:
    """Result for one record: ``serialized`` Example bytes, or ``None`` with the issue ``code`` and ``problem``."""

    serialized: bytes | None
    code: str = ""
    problem: str = ""
    passthrough: bool = False  # the source JPEG bytes were written unchanged


def record_image_bytes(path, offset: int) -> bytes:
    """``image/encoded`` of the Example stored at byte ``offset`` of TFRecord file ``path``.

    Raises:
        ValueError: the record is cut short or is not an Example; KeyError: it holds no image.
    """
    return parse_example_features(read_record_at(path, offset))[schema.ENCODED][0]


def source_bytes(record: ImageRecord) -> bytes:
    """The original bytes of the record's image (file contents, or image/encoded of the source TFRecord)."""
    if record.record_offset is None:
        return Path(record.image_path).read_bytes()
    return record_image_bytes(record.image_path, record.record_offset)


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
    features = schema.example_features(record, names_to_ids, encoded, width, height)
    return Encoded(serialize_example(features), passthrough=encoded is raw)


def encode_chunk(records: list[ImageRecord], names_to_ids: dict[str, int], max_pixels: int) -> list[Encoded]:
    """``encode_record`` over a list (the unit of work sent to a worker process)."""
    return [encode_record(record, names_to_ids, max_pixels) for record in records]

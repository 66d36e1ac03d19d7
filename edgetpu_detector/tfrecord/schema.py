"""The TF Object Detection API ``tf.Example`` schema of one image, declared once: feature keys and the
features of an ``ImageRecord``.

Format source: the TF OD API's ``dataset_tools/create_pascal_tf_record.py`` and
``data_decoders/tf_example_decoder.py``. One Example per image with the features

=================================  ========  =================================================
key                                type      value
=================================  ========  =================================================
image/encoded                      bytes     JPEG file bytes (RGB, 3 channels)
image/format                       bytes     b'jpeg'
image/height, image/width          int64     pixels of the encoded image
image/filename                     bytes     image base name, UTF-8
image/source_id                    bytes     image path relative to the dataset folder, UTF-8
image/key/sha256                   bytes     hex sha256 of image/encoded
image/object/bbox/xmin|xmax|...    float     [N] box edges normalized to [0, 1] by width/height
image/object/class/text            bytes     [N] class names, UTF-8
image/object/class/label           int64     [N] label-map ids (>= 1)
image/object/difficult             int64     [N] 1: PASCAL VOC "difficult" object (evaluation ignores it)
image/object/truncated             int64     [N] 1: PASCAL VOC "truncated" object
=================================  ========  =================================================

Records written before the two flags existed lack them; readers take 0 for every box then.

Image bytes follow ``edgetpu_detector.images.jpeg`` (RGB JPEG passed through byte for byte, anything else
re-encoded). Imports no TensorFlow: the encoding workers use it.
"""
from __future__ import annotations

import hashlib

from edgetpu_detector.tfrecord.records import ImageRecord

ENCODED = "image/encoded"
FORMAT = "image/format"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"
SOURCE_ID = "image/source_id"
SHA256 = "image/key/sha256"
XMIN = "image/object/bbox/xmin"
XMAX = "image/object/bbox/xmax"
YMIN = "image/object/bbox/ymin"
YMAX = "image/object/bbox/ymax"
CLASS_TEXT = "image/object/class/text"
CLASS_LABEL = "image/object/class/label"
DIFFICULT = "image/object/difficult"
TRUNCATED = "image/object/truncated"
BOX_KEYS = (YMIN, XMIN, YMAX, XMAX)  # the box layout everywhere in the project: ymin, xmin, ymax, xmax


def example_features(record: ImageRecord, names_to_ids: dict[str, int], encoded: bytes, width: int,
                     height: int) -> dict:
    """The feature dict of one Example, for ``edgetpu_detector.tfrecord.example_proto.serialize_example``.

    Args:
      record: the validated image and its boxes (pixels).
      names_to_ids: label map, class name -> id.
      encoded: the JPEG bytes; width, height: their size in pixels.

    Raises:
      KeyError: a box class missing from ``names_to_ids``.
    """
    boxes = record.boxes
    return {
        HEIGHT: [int(height)],
        WIDTH: [int(width)],
        FILENAME: [record.filename.encode("utf-8")],
        SOURCE_ID: [record.relpath.encode("utf-8")],
        SHA256: [hashlib.sha256(encoded).hexdigest().encode("ascii")],
        ENCODED: [encoded],
        FORMAT: [b"jpeg"],
        XMIN: ("float", [b.xmin / width for b in boxes]),
        XMAX: ("float", [b.xmax / width for b in boxes]),
        YMIN: ("float", [b.ymin / height for b in boxes]),
        YMAX: ("float", [b.ymax / height for b in boxes]),
        CLASS_TEXT: ("bytes", [b.label.encode("utf-8") for b in boxes]),
        CLASS_LABEL: ("int", [names_to_ids[b.label] for b in boxes]),
        DIFFICULT: ("int", [int(b.difficult) for b in boxes]),
        TRUNCATED: ("int", [int(b.truncated) for b in boxes]),
    }

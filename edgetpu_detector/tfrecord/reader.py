"""Read TFRecord files of the TF Object Detection API schema (``edgetpu_detector.tfrecord.schema``) with
TensorFlow: ``parse_example`` inside ``tf.data`` pipelines, ``read_examples`` eagerly."""
from __future__ import annotations

import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before importing it)

import hashlib
from pathlib import Path

import tensorflow as tf

from edgetpu_detector.tfrecord import schema

_FEATURES = {
    schema.ENCODED: tf.io.FixedLenFeature([], tf.string),
    schema.HEIGHT: tf.io.FixedLenFeature([], tf.int64),
    schema.WIDTH: tf.io.FixedLenFeature([], tf.int64),
    schema.FILENAME: tf.io.FixedLenFeature([], tf.string, default_value=""),
    schema.SOURCE_ID: tf.io.FixedLenFeature([], tf.string, default_value=""),
    schema.SHA256: tf.io.FixedLenFeature([], tf.string, default_value=""),
    **{key: tf.io.VarLenFeature(tf.float32) for key in schema.BOX_KEYS},
    schema.CLASS_TEXT: tf.io.VarLenFeature(tf.string),
    schema.CLASS_LABEL: tf.io.VarLenFeature(tf.int64),
    schema.DIFFICULT: tf.io.VarLenFeature(tf.int64),
    schema.TRUNCATED: tf.io.VarLenFeature(tf.int64),
}


def parse_example(serialized):
    """Parse one serialized Example (usable inside ``tf.data.Dataset.map``).

    Returns a dict of tensors:
        image: uint8 [H, W, 3] (JPEG decoded to 3 channels)
        boxes: float32 [N, 4] ymin, xmin, ymax, xmax, normalized to [0, 1]
        classes: int32 [N] label-map ids (>= 1)
        class_text: string [N] class names
        difficult, truncated: bool [N] the PASCAL VOC flags (False for records written without them)
        filename, source_id, sha256: string scalars
        height, width: int32 scalars, pixels
    """
    return _decode(tf.io.parse_single_example(serialized, _FEATURES))


def _decode(parsed):
    """Decode the features parsed with ``_FEATURES`` into parse_example's dict."""
    image = tf.io.decode_jpeg(parsed[schema.ENCODED], channels=3)
    image.set_shape([None, None, 3])

    def dense(key):
        return tf.sparse.to_dense(parsed[key])

    boxes = tf.stack([dense(key) for key in schema.BOX_KEYS], axis=1)
    classes = tf.cast(dense(schema.CLASS_LABEL), tf.int32)

    def flag(key):  # absent in records written before the flags existed: False for every box
        values = dense(key)
        return tf.cond(tf.size(values) > 0, lambda: values > 0, lambda: tf.zeros_like(classes, tf.bool))

    return {
        "image": image,
        "boxes": tf.reshape(boxes, [-1, 4]),
        "classes": classes,
        "difficult": flag(schema.DIFFICULT),
        "truncated": flag(schema.TRUNCATED),
        "class_text": dense(schema.CLASS_TEXT),
        "filename": parsed[schema.FILENAME],
        "source_id": parsed[schema.SOURCE_ID],
        "sha256": parsed[schema.SHA256],
        "height": tf.cast(parsed[schema.HEIGHT], tf.int32),
        "width": tf.cast(parsed[schema.WIDTH], tf.int32),
    }


def read_examples(path):
    """Iterate over a TFRecord file eagerly, yielding one dict of NumPy/Python values per image.

    Keys: ``image`` uint8 [H, W, 3]; ``boxes`` float32 [N, 4] ymin, xmin, ymax, xmax normalized;
    ``classes`` int32 [N] label-map ids; ``difficult``, ``truncated`` bool [N]; ``class_text`` list[str]; ``filename``, ``source_id``,
    ``sha256`` str; ``height``, ``width`` int pixels; ``encoded_size`` int bytes of image/encoded.

    Raises:
        ValueError: naming the file when an image's sha256 does not match its bytes or its decoded
            size differs from image/height, image/width.
    """
    path = Path(path)
    for index, serialized in enumerate(tf.data.TFRecordDataset(str(path))):
        parsed = tf.io.parse_single_example(serialized, _FEATURES)
        example = _decode(parsed)
        encoded = parsed[schema.ENCODED].numpy()
        out = {
            "image": example["image"].numpy(),
            "boxes": example["boxes"].numpy(),
            "classes": example["classes"].numpy(),
            "difficult": example["difficult"].numpy(),
            "truncated": example["truncated"].numpy(),
            "class_text": [t.decode("utf-8") for t in example["class_text"].numpy()],
            "filename": example["filename"].numpy().decode("utf-8"),
            "source_id": example["source_id"].numpy().decode("utf-8"),
            "sha256": example["sha256"].numpy().decode("ascii"),
            "height": int(example["height"]),
            "width": int(example["width"]),
            "encoded_size": len(encoded),
        }
        if out["sha256"] and hashlib.sha256(encoded).hexdigest() != out["sha256"]:
            raise ValueError(f"{path}: example #{index} ({out['source_id']}): image/key/sha256 does not match image/encoded")
        if out["image"].shape[:2] != (out["height"], out["width"]):
            raise ValueError(
                f"{path}: example #{index} ({out['source_id']}): decoded image is {out['image'].shape[1]}x"
                f"{out['image'].shape[0]}, Example says {out['width']}x{out['height']}"
            )
        yield out

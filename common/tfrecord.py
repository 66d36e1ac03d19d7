"""Write and read TFRecord files of ``tf.train.Example`` in the TF Object Detection API schema.

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
=================================  ========  =================================================

The preprocess step writes these files with common.record_writer (parallel, sharded); ``make_example``
and ``write_tfrecord`` here are the single-process equivalent. Image bytes (common.images): a file that
really is an RGB JPEG is passed through unchanged (no generation loss); anything else (grayscale
``L``, ``CMYK``, ``RGBA``/``LA``/``P``, a PNG saved as ``.jpg``, BMP ...) is converted to RGB with Pillow (transparent pixels composited over white) and re-encoded as baseline
JPEG, quality 95, 4:2:0 subsampling, without EXIF or ICC data. Pillow's encoder is deterministic, so
the same input gives the same bytes.

EXIF orientation: see common.annotation_checks. Stored pixels are written unless
``ImageRecord.exif_transpose`` is set (the XML size matches only the rotated image), in which case
``PIL.ImageOps.exif_transpose`` is applied; either way a JPEG with an orientation tag is re-encoded
without it, so every reader sees the pixels the boxes belong to.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import common.env  # noqa: F401  (quiet TensorFlow before importing it)
import tensorflow as tf

from common.example_proto import serialize_example
from common.images import JPEG_QUALITY, encode_rgb_jpeg, jpeg_for_record, to_rgb  # noqa: F401  (re-exported)
from common.record_encoder import example_features
from common.records import ImageRecord


def load_jpeg_bytes(path, exif_transpose: bool = False) -> tuple[bytes, int, int]:
    """Return (JPEG bytes, width, height) for an image file, following common.images' pass-through rule.

    Raises:
        ValueError: naming the file when Pillow cannot read it.
    """
    path = Path(path)
    try:
        return jpeg_for_record(path.read_bytes(), exif_transpose=exif_transpose)
    except ValueError as exc:
        raise ValueError(f"{path}: cannot read image: {exc}") from exc


def _bytes_feature(values) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _int64_feature(values) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _float_feature(values) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def make_example(record: ImageRecord, names_to_ids: dict[str, int]) -> tf.train.Example:
    """Build the tf.train.Example of one image (schema in the module docstring).

    Raises:
        ValueError: naming the image when a box class is not in ``names_to_ids``, or when the encoded
            image size differs from ``record.width`` x ``record.height``.
    """
    encoded, width, height = load_jpeg_bytes(record.image_path, record.exif_transpose)
    if (width, height) != (record.width, record.height):
        raise ValueError(
            f"{record.image_path}: image is {width}x{height}, record says {record.width}x{record.height}"
        )
    missing = sorted({box.label for box in record.boxes} - set(names_to_ids))
    if missing:
        raise ValueError(f"{record.image_path}: classes {missing} are not in the label map")
    serialized = serialize_example(example_features(record, names_to_ids, encoded, width, height))
    return tf.train.Example.FromString(serialized)


def write_tfrecord(records, names_to_ids: dict[str, int], path, progress: bool = True, desc: str | None = None) -> int:
    """Write one Example per record (in the given order) to an uncompressed TFRecord file.

    Examples are serialized with ``deterministic=True`` (sorted feature map), so the same records
    give a byte-identical file. Returns the number of examples written.

    Raises:
        ValueError: see ``make_example``; the partly written file is removed.
    """
    path = Path(path)
    records = list(records)
    iterator = records
    if progress:
        from tqdm import tqdm

        iterator = tqdm(records, desc=desc or path.name, unit="img")
    try:
        with tf.io.TFRecordWriter(str(path)) as writer:
            for record in iterator:
                writer.write(make_example(record, names_to_ids).SerializeToString(deterministic=True))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return len(records)


_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/filename": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/source_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/key/sha256": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/object/bbox/xmin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/xmax": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymax": tf.io.VarLenFeature(tf.float32),
    "image/object/class/text": tf.io.VarLenFeature(tf.string),
    "image/object/class/label": tf.io.VarLenFeature(tf.int64),
}


def parse_example(serialized):
    """Parse one serialized Example (usable inside ``tf.data.Dataset.map``).

    Returns a dict of tensors:
        image: uint8 [H, W, 3] (JPEG decoded to 3 channels)
        boxes: float32 [N, 4] ymin, xmin, ymax, xmax, normalized to [0, 1]
        classes: int32 [N] label-map ids (>= 1)
        class_text: string [N] class names
        filename, source_id, sha256: string scalars
        height, width: int32 scalars, pixels
    """
    return _decode(tf.io.parse_single_example(serialized, _FEATURES))


def _decode(parsed):
    """Decode the features parsed with ``_FEATURES`` into parse_example's dict."""
    image = tf.io.decode_jpeg(parsed["image/encoded"], channels=3)
    image.set_shape([None, None, 3])

    def dense(key):
        return tf.sparse.to_dense(parsed[key])

    boxes = tf.stack(
        [dense("image/object/bbox/ymin"), dense("image/object/bbox/xmin"),
         dense("image/object/bbox/ymax"), dense("image/object/bbox/xmax")],
        axis=1,
    )
    return {
        "image": image,
        "boxes": tf.reshape(boxes, [-1, 4]),
        "classes": tf.cast(dense("image/object/class/label"), tf.int32),
        "class_text": dense("image/object/class/text"),
        "filename": parsed["image/filename"],
        "source_id": parsed["image/source_id"],
        "sha256": parsed["image/key/sha256"],
        "height": tf.cast(parsed["image/height"], tf.int32),
        "width": tf.cast(parsed["image/width"], tf.int32),
    }


def read_examples(path):
    """Iterate over a TFRecord file eagerly, yielding one dict of NumPy/Python values per image.

    Keys: ``image`` uint8 [H, W, 3]; ``boxes`` float32 [N, 4] ymin, xmin, ymax, xmax normalized;
    ``classes`` int32 [N] label-map ids; ``class_text`` list[str]; ``filename``, ``source_id``,
    ``sha256`` str; ``height``, ``width`` int pixels; ``encoded_size`` int bytes of image/encoded.

    Raises:
        ValueError: naming the file when an image's sha256 does not match its bytes or its decoded
            size differs from image/height, image/width.
    """
    path = Path(path)
    for index, serialized in enumerate(tf.data.TFRecordDataset(str(path))):
        parsed = tf.io.parse_single_example(serialized, _FEATURES)
        example = _decode(parsed)
        encoded = parsed["image/encoded"].numpy()
        out = {
            "image": example["image"].numpy(),
            "boxes": example["boxes"].numpy(),
            "classes": example["classes"].numpy(),
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

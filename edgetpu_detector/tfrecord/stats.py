"""Counts over a split's TFRecords without decoding any image (TensorFlow-free)."""
from edgetpu_detector.tfrecord import schema
from edgetpu_detector.tfrecord.example_proto import parse_example_features
from edgetpu_detector.tfrecord.file import iter_records


def boxes_per_image(record_paths):
    """Number of boxes of every Example of the given TFRecord files, in file order.

    Args:
      record_paths: str / Path or a list of them (a split's shards).

    Returns:
      list of int.

    Raises:
      ValueError: a record cut short or not a tf.train.Example (names the file).
    """
    paths = [record_paths] if isinstance(record_paths, (str, bytes)) or hasattr(record_paths, "open") \
        else list(record_paths)
    counts = []
    for path in paths:
        for _, data in iter_records(path):
            counts.append(len(parse_example_features(data).get(schema.XMIN, [])))
    return counts

"""The TFRecord encoder writes Examples without TensorFlow: they must be TensorFlow's own bytes."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import numpy as np
import tensorflow as tf

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.synthetic import make_synthetic_dataset
from edgetpu_detector.tfrecord import schema
from edgetpu_detector.tfrecord.encoder import encode_record
from edgetpu_detector.tfrecord.reader import parse_example


def test_protobuf_examples_are_tensorflows_bytes(tmp_path):
    dataset = discover_dataset(make_synthetic_dataset(tmp_path / "data", num_train=2, num_test=3, seed=5))
    names_to_ids = {"circle": 1, "square": 2, "triangle": 3}
    for record in dataset.test:
        serialized = encode_record(record, names_to_ids).serialized
        # TensorFlow's own Example parses the bytes and writes them back identically (deterministic maps).
        example = tf.train.Example.FromString(serialized)
        assert example.SerializeToString(deterministic=True) == serialized
        assert example.features.feature[schema.FORMAT].bytes_list.value == [b"jpeg"]
        parsed = parse_example(tf.constant(serialized))
        expected = [[b.ymin / record.height, b.xmin / record.width, b.ymax / record.height, b.xmax / record.width]
                    for b in record.boxes]
        np.testing.assert_allclose(parsed["boxes"].numpy(), np.float32(expected).reshape(-1, 4), rtol=1e-6)
        assert parsed["classes"].numpy().tolist() == [names_to_ids[b.label] for b in record.boxes]
        assert parsed["image"].shape == (record.height, record.width, 3)

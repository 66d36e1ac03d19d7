"""TFRecords in the TF Object Detection API ``tf.Example`` schema: the validated ``ImageRecord`` an Example
holds, the feature keys, encoding without TensorFlow (protobuf), parallel sharded writing, TFRecord framing,
reading with ``tf.data``, and finding a split's shards.

May import: ``images``, ``core``. TensorFlow only in ``writer`` (the file writer) and ``reader``.
"""

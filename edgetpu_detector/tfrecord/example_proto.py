"""``tf.train.Example`` built and parsed with protobuf alone (no TensorFlow import), for worker processes.

Format source: TensorFlow's ``tensorflow/core/example/feature.proto`` and ``example.proto``::

    message BytesList { repeated bytes value = 1; }
    message FloatList { repeated float value = 1 [packed = true]; }
    message Int64List { repeated int64 value = 1 [packed = true]; }
    message Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
    message Features { map<string, Feature> feature = 1; }
    message Example { Features features = 1; }

The message classes are built at run time from a ``FileDescriptorProto`` in a private descriptor pool
(as edgetpu_detector.data.label_map does), so the wire bytes are those TensorFlow writes and reads, and the
encoding workers of edgetpu_detector.tfrecord.writer never import TensorFlow. Serialization is deterministic
(map keys sorted), so the same features give the same bytes.
"""
from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_PACKAGE = "tensorflow"


def _build():
    fdp = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/example_light.proto",
                                             package=_PACKAGE, syntax="proto3")
    f = descriptor_pb2.FieldDescriptorProto
    for name, ftype in (("BytesList", f.TYPE_BYTES), ("FloatList", f.TYPE_FLOAT), ("Int64List", f.TYPE_INT64)):
        message = fdp.message_type.add(name=name)
        field = message.field.add(name="value", number=1, type=ftype, label=f.LABEL_REPEATED)
        if ftype != f.TYPE_BYTES:
            field.options.packed = True
    feature = fdp.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, (name, type_name) in enumerate((("bytes_list", "BytesList"), ("float_list", "FloatList"),
                                                ("int64_list", "Int64List")), start=1):
        feature.field.add(name=name, number=number, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL,
                          type_name=f".{_PACKAGE}.{type_name}", oneof_index=0)
    features = fdp.message_type.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL,
                    type_name=f".{_PACKAGE}.Feature")
    features.field.add(name="feature", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED,
                       type_name=f".{_PACKAGE}.Features.FeatureEntry")
    example = fdp.message_type.add(name="Example")
    example.field.add(name="features", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL,
                      type_name=f".{_PACKAGE}.Features")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Example"))


Example = _build()


def serialize_example(features: dict) -> bytes:
    """Serialize ``{key: list}`` as a ``tf.train.Example``, deterministically (sorted keys).

    Each value is a list of ``bytes`` (BytesList), ``float`` (FloatList, stored as float32) or ``int``
    (Int64List); the list type is taken from the first element, and an empty list must be given as
    ``("float", [])``, ``("int", [])`` or ``("bytes", [])``.
    """
    message = Example()
    feature_map = message.features.feature
    for key in sorted(features):
        values = features[key]
        kind = None
        if isinstance(values, tuple) and len(values) == 2 and isinstance(values[0], str):
            kind, values = values
        elif values:
            first = values[0]
            kind = "bytes" if isinstance(first, bytes) else "int" if isinstance(first, int) else "float"
        if kind == "bytes":
            feature_map[key].bytes_list.value.extend(values)
        elif kind == "int":
            feature_map[key].int64_list.value.extend(int(v) for v in values)
        elif kind == "float":
            feature_map[key].float_list.value.extend(float(v) for v in values)
        else:
            raise ValueError(f"serialize_example: cannot tell the type of empty feature {key!r}")
    return message.SerializeToString(deterministic=True)


def parse_example_features(serialized: bytes) -> dict:
    """Parse a serialized ``tf.train.Example`` into ``{key: list of bytes | float | int}``.

    Raises:
        ValueError: when the bytes are not an Example.
    """
    message = Example()
    try:
        message.ParseFromString(serialized)
    except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError
        raise ValueError(f"not a tf.train.Example: {exc}") from exc
    out = {}
    for key, feature in message.features.feature.items():
        kind = feature.WhichOneof("kind")
        out[key] = list(getattr(feature, kind).value) if kind else []
    return out

"""Label maps: the TF Object Detection API ``StringIntLabelMap`` text protobuf and Coral's ``labels.txt``.

Format source: ``object_detection/protos/string_int_label_map.proto`` of the TensorFlow Object
Detection API (``message StringIntLabelMapItem { optional string name = 1; optional int32 id = 2;
optional string display_name = 3; ... }`` and ``message StringIntLabelMap { repeated
StringIntLabelMapItem item = 1; }``). The two message classes are built at run time from a
``FileDescriptorProto`` in a private descriptor pool, so the real protobuf ``text_format`` parser and
printer read and write the files (``item { id: 1 name: 'date' }``) without depending on the
``object_detection`` package. Only the three fields above are declared: a label map using the
proto's later fields (keypoints, frequency, ...) is rejected with a parse error naming the file.

Ids start at 1; id 0 is the implicit background class of the TF OD API and SSD models.
"""
from __future__ import annotations

from pathlib import Path
import re

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

from edgetpu_detector.core.class_ids import class_index, label_map_id

LABEL_MAP_FILE = "label_map.pbtxt"  # the TF OD API label map written by the preprocess step
LABELS_TXT = "labels.txt"  # Coral's labels file, beside the data and every exported model

_PROTO_PACKAGE = "object_detection.protos"


def _build_message_classes():
    """Build (StringIntLabelMap, StringIntLabelMapItem) message classes from a FileDescriptorProto."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="object_detection/protos/string_int_label_map.proto",
        package=_PROTO_PACKAGE,
        syntax="proto2",
    )
    item = fdp.message_type.add(name="StringIntLabelMapItem")
    f = descriptor_pb2.FieldDescriptorProto
    item.field.add(name="name", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    item.field.add(name="id", number=2, type=f.TYPE_INT32, label=f.LABEL_OPTIONAL)
    item.field.add(name="display_name", number=3, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    label_map = fdp.message_type.add(name="StringIntLabelMap")
    label_map.field.add(
        name="item",
        number=1,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name=f".{_PROTO_PACKAGE}.StringIntLabelMapItem",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PROTO_PACKAGE}.StringIntLabelMap")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PROTO_PACKAGE}.StringIntLabelMapItem")),
    )


StringIntLabelMap, StringIntLabelMapItem = _build_message_classes()


def parse_label_map_text(text: str, source: str = "<string>"):
    """Parse label-map text into a ``StringIntLabelMap`` message.

    Raises:
        ValueError: naming ``source`` when the text is not a valid StringIntLabelMap text protobuf.
    """
    message = StringIntLabelMap()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as exc:
        raise ValueError(f"{source}: not a valid StringIntLabelMap text protobuf: {exc}") from exc
    return message


def read_label_map(path) -> dict[str, int]:
    """Read a TF OD API label map file (``label_map.pbtxt``) into ``{class name: id}``.

    Items are ``item { id: <int32 >= 1> name: '<str>' [display_name: '<str>'] }``; ``name`` is the
    key (it is the class text stored in the TFRecords). As in the TF OD API's ``label_map_util``, an
    item ``id: 0`` named ``'background'`` is accepted and left out of the result.

    Returns:
        dict name -> id, in file order.

    Raises:
        ValueError: naming the file on a parse error, an item without a name, an id < 1, a duplicate
            id or a duplicate name, or a file with no items.
        OSError: when the file cannot be read.
    """
    path = Path(path)
    message = parse_label_map_text(path.read_text(encoding="utf-8"), source=str(path))
    names_to_ids: dict[str, int] = {}
    ids_seen: dict[int, str] = {}
    for index, item in enumerate(message.item):
        name = item.name
        if item.id == 0 and "background" in (name, item.display_name):
            continue
        if not name:
            raise ValueError(f"{path}: item #{index + 1} (id {item.id}) has no name")
        if item.id < 1:
            raise ValueError(f"{path}: item {name!r} has id {item.id}; ids must be >= 1 (0 is background)")
        if name in names_to_ids:
            raise ValueError(f"{path}: duplicate name {name!r} (ids {names_to_ids[name]} and {item.id})")
        if item.id in ids_seen:
            raise ValueError(f"{path}: duplicate id {item.id} (names {ids_seen[item.id]!r} and {name!r})")
        names_to_ids[name] = item.id
        ids_seen[item.id] = name
    if not names_to_ids:
        raise ValueError(f"{path}: label map has no items")
    return names_to_ids


def _check_names_to_ids(names_to_ids: dict[str, int]) -> None:
    """Raise ValueError on empty names, ids < 1 or duplicate ids."""
    seen: dict[int, str] = {}
    for name, label_id in names_to_ids.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"label map: empty class name for id {label_id}")
        if "\n" in name or "\r" in name:
            raise ValueError(f"label map: class name {name!r} contains a line break")
        if int(label_id) < 1:
            raise ValueError(f"label map: class {name!r} has id {label_id}; ids must be >= 1")
        if label_id in seen:
            raise ValueError(f"label map: duplicate id {label_id} ({seen[label_id]!r} and {name!r})")
        seen[label_id] = name


def label_map_to_text(names_to_ids: dict[str, int]) -> str:
    """Render ``{name: id}`` as StringIntLabelMap text, items sorted by id (protobuf text_format printer)."""
    _check_names_to_ids(names_to_ids)
    message = StringIntLabelMap()
    for name, label_id in sorted(names_to_ids.items(), key=lambda kv: kv[1]):
        message.item.add(name=name, id=int(label_id))
    return text_format.MessageToString(message, as_utf8=True)


def write_label_map(names_to_ids: dict[str, int], path) -> Path:
    """Write ``{name: id}`` as a TF OD API ``StringIntLabelMap`` text protobuf file (UTF-8).

    Raises:
        ValueError: on an empty name, an id < 1 or a duplicate id.
    """
    path = Path(path)
    path.write_text(label_map_to_text(names_to_ids), encoding="utf-8")
    return path


def make_label_map(class_names) -> dict[str, int]:
    """Build a label map from class names: unique names, sorted by code point, ids 1..N.

    Stable: the same set of names always gives the same ids, whatever their order or repetition.

    Raises:
        ValueError: when there are no names or a name is empty.
    """
    names = sorted(set(class_names))
    if not names:
        raise ValueError("make_label_map: no class names")
    names_to_ids = {name: index + 1 for index, name in enumerate(names)}
    _check_names_to_ids(names_to_ids)
    return names_to_ids


# pycoral.utils.dataset.read_label_file splits each line on r'[:\s]+' and takes a leading integer as
# the id; a class name of that shape would be misread.
_PYCORAL_ID_PREFIX = re.compile(r"^\s*\d+[:\s]")
_GAP_LABEL = "n/a"  # what Coral's coco_labels.txt writes for unused ids


def write_labels_txt(names_to_ids: dict[str, int], path) -> Path:
    """Write Coral's ``labels.txt`` (read by ``pycoral.utils.dataset.read_label_file``) next to a .tflite.

    One name per line; line i (0-based) is the class with label-map id i + 1, because the SSD
    post-processing op outputs class index = label-map id - 1 (background removed). Unused ids
    inside 1..max id are written as ``n/a`` lines, as in Coral's ``coco_labels.txt``.

    Raises:
        ValueError: on an invalid map (see ``write_label_map``) or a name that pycoral would parse as
            ``<id> <name>`` (e.g. ``'2 cats'``).
    """
    _check_names_to_ids(names_to_ids)
    for name in names_to_ids:
        if _PYCORAL_ID_PREFIX.match(name):
            raise ValueError(f"labels.txt: class name {name!r} starts with a number; pycoral would read it as an id")
    ids_to_names = {label_id: name for name, label_id in names_to_ids.items()}
    lines = [ids_to_names.get(label_map_id(i), _GAP_LABEL) for i in range(class_index(max(ids_to_names)) + 1)]
    path = Path(path)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_labels_txt(path) -> dict[int, str]:
    """Read Coral's ``labels.txt`` (see ``write_labels_txt``) into ``{label-map id: name}``.

    Line i (0-based) is label-map id i + 1, i.e. TFLite class index i; blank and ``n/a`` lines are gaps and
    left out. Raises FileNotFoundError / UnicodeDecodeError as ``Path.read_text`` does.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {label_map_id(i): name.strip() for i, name in enumerate(lines)
            if name.strip() and name.strip() != _GAP_LABEL}

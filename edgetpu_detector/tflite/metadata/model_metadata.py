"""TFLite Model Metadata in any ``.tflite``, written and read without TensorFlow or tflite-support.

Embeds a ModelMetadata flatbuffer the way the TFLite Support / MediaPipe ``MetadataPopulator`` does: a
``Model.metadata`` entry named ``TFLITE_METADATA`` pointing at a ``Model.buffers`` entry that holds the
ModelMetadata flatbuffer (file identifier ``M001``), and the associated files (labels.txt, ...) as a zip
appended to the model (``associated_files``). Reads it back, replaces it (never duplicates it) and copies
it from one model to another (e.g. onto an ``edgetpu_compiler`` output, which drops it).

Format sources: ``metadata_schema.fbs`` of tflite-support / MediaPipe (tables and slots: ``schema``,
written with ``flatbuffers.Builder`` by ``tables``), the populator of the same projects, and
TFLite's ``schema.fbs`` (the ``Model`` table, edited here with ai_edge_litert's generated object API, which is
TensorFlow-free). Metadata values are plain dicts (see ``tables``); ``detector`` builds the
object-detector metadata.
"""
from pathlib import Path

from ai_edge_litert import schema_py_generated as tfl

from edgetpu_detector.core.atomic import atomic_write_bytes
from edgetpu_detector.tflite.flatbuffer import read_model, write_model
from edgetpu_detector.tflite.metadata.associated_files import pack_files, read_files
from edgetpu_detector.tflite.metadata.schema import (ASSOCIATED_FILE_TYPES, FORCE_ALIGN, METADATA_FILE_IDENTIFIER,
                                                     ROOT_TABLE, TABLES, TFLITE_METADATA_KEY)
from edgetpu_detector.tflite.metadata.tables import TableCodec

CODEC = TableCodec(TABLES, FORCE_ALIGN)

# First metadata parser version that understands a field (history in metadata_schema.fbs).
_SUBGRAPH_FIELD_VERSIONS = {"input_process_units": "1.1.0", "output_process_units": "1.1.0",
                            "input_tensor_groups": "1.2.0", "output_tensor_groups": "1.2.0",
                            "custom_metadata": "1.5.0"}
_UNION_MEMBER_VERSIONS = {"BertTokenizerOptions": "1.1.0", "SentencePieceTokenizerOptions": "1.1.0",
                          "RegexTokenizerOptions": "1.2.1", "AudioProperties": "1.3.0"}
_FILE_TYPE_VERSIONS = {ASSOCIATED_FILE_TYPES["VOCABULARY"]: "1.0.1",
                       ASSOCIATED_FILE_TYPES["SCANN_INDEX_FILE"]: "1.4.0"}


def min_parser_version(metadata):
    """The lowest metadata parser version that reads every field ``metadata`` (dict) uses, e.g. ``"1.2.0"``."""
    versions = ["1.0.0"]

    def visit(value):
        if isinstance(value, dict):
            if "type" in value and "name" in value and value.get("type") in _FILE_TYPE_VERSIONS:
                versions.append(_FILE_TYPE_VERSIONS[value["type"]])
            if value.get("version") is not None and "type" in value:  # AssociatedFile.version
                versions.append("1.4.1")
            for key, item in value.items():
                if key in _SUBGRAPH_FIELD_VERSIONS and item:
                    versions.append(_SUBGRAPH_FIELD_VERSIONS[key])
                visit(item)
        elif isinstance(value, tuple):  # union member
            versions.append(_UNION_MEMBER_VERSIONS.get(value[0], "1.0.0"))
            visit(value[1])
        elif isinstance(value, list):
            for item in value:
                visit(item)

    for subgraph in metadata.get("subgraph_metadata", []):
        visit(subgraph)
    visit(metadata.get("associated_files", []))
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


def encode_metadata(metadata):
    """ModelMetadata dict -> flatbuffer bytes (identifier ``M001``), ``min_parser_version`` computed."""
    metadata = dict(metadata, min_parser_version=min_parser_version(metadata))
    return CODEC.encode(ROOT_TABLE, metadata, METADATA_FILE_IDENTIFIER)


def decode_metadata(metadata_bytes):
    """ModelMetadata flatbuffer bytes -> dict (the form ``detector_metadata`` returns)."""
    return CODEC.decode(ROOT_TABLE, metadata_bytes, METADATA_FILE_IDENTIFIER)


def referenced_files(metadata):
    """Names of all associated files a ModelMetadata dict refers to (any table's file lists)."""
    names = []

    def visit(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("associated_files", "vocab_file", "sentencePiece_model"):
                    names.extend(f["name"] for f in item if f.get("name"))
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(metadata)
    return list(dict.fromkeys(names))


def entry_name(value):
    """A flatbuffer string field (bytes or str) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def metadata_buffer(model_bytes):
    """The raw ModelMetadata flatbuffer of a ``.tflite`` (``bytes``), or None when it has none."""
    model = tfl.Model.GetRootAs(bytearray(model_bytes), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry_name(entry.Name()) == TFLITE_METADATA_KEY:
            buffer = model.Buffers(entry.Buffer())
            if buffer.DataLength():
                return buffer.DataAsNumpy().tobytes()
    return None


def read_metadata(model_bytes):
    """``(metadata dict or None, {packed file name: bytes})`` of a ``.tflite`` (bytes)."""
    buffer = metadata_buffer(model_bytes)
    return (decode_metadata(buffer) if buffer else None), read_files(model_bytes)


def attach_metadata(model_bytes, metadata, files, strict=True):
    """Embed ModelMetadata and its associated files in a ``.tflite``, replacing any metadata it has.

    Args:
      model_bytes: ``.tflite`` bytes, with or without metadata / packed files (e.g. an ``edgetpu_compiler``
        output, or a model written by this function or by the TFLite Support writer).
      metadata: ModelMetadata dict, or encoded ModelMetadata bytes (file identifier ``M001``).
      files: {name: bytes}: exactly the associated files the metadata names.
      strict: check the tensor metadata counts against the model and the files against the metadata
        (False only to build deliberately broken files for client tests).

    Returns:
      ``.tflite`` bytes: the model re-packed with one ``TFLITE_METADATA`` entry (the first existing one's
      buffer is reused, further ones removed), followed by a zip of ``files``. Other metadata entries
      (``min_runtime_version``, ``CONVERSION_METADATA``, ...) are kept; previously packed files are dropped.

    Raises:
      ValueError: not a TFLite model; not one subgraph metadata; tensor metadata counts differ from the
        main subgraph's inputs / outputs; the files do not match the names in the metadata.
    """
    if isinstance(metadata, dict):
        metadata_bytes, decoded = encode_metadata(metadata), metadata
    else:
        metadata_bytes, decoded = bytes(metadata), decode_metadata(metadata)
    model = read_model(model_bytes)
    subgraphs = decoded.get("subgraph_metadata", [])
    main = model.subgraphs[0]
    wanted = referenced_files(decoded)
    if strict:
        _check(subgraphs, main, wanted, files)
    else:
        wanted = [name for name in wanted if name in files]
    entries = [m for m in (model.metadata or []) if entry_name(m.name) == TFLITE_METADATA_KEY]
    buffer = tfl.BufferT()
    buffer.data = bytes(metadata_bytes)
    if entries:
        model.buffers[entries[0].buffer] = buffer
        for extra in entries[1:]:
            model.buffers[extra.buffer] = tfl.BufferT()  # empty the duplicate's buffer, drop its entry
            model.metadata.remove(extra)
    else:
        model.buffers = (model.buffers or []) + [buffer]
        entry = tfl.MetadataT()
        entry.name, entry.buffer = TFLITE_METADATA_KEY.encode(), len(model.buffers) - 1
        model.metadata = (model.metadata or []) + [entry]
    return pack_files(write_model(model), {name: files[name] for name in wanted})


def _check(subgraphs, main, wanted, files):
    """The populator's checks: one SubGraphMetadata, tensor metadata counts = model inputs / outputs, files."""
    if len(subgraphs) != 1:
        raise ValueError(f"metadata needs exactly one SubGraphMetadata, got {len(subgraphs)}")
    for kind, tensors in (("input", main.inputs), ("output", main.outputs)):
        count = len(subgraphs[0].get(f"{kind}_tensor_metadata", []))
        if count != len(tensors):
            raise ValueError(f"{count} {kind} tensor metadata for {len(tensors)} model {kind}s")
    if sorted(wanted) != sorted(files):
        raise ValueError(f"metadata names files {wanted}, given {sorted(files)}")


def copy_metadata(src_tflite, dst_tflite, output_path=None):
    """Copy the metadata and packed files of ``src_tflite`` onto ``dst_tflite`` (e.g. after edgetpu_compiler).

    The metadata buffer is copied byte for byte; ``dst``'s own metadata, if any, is replaced. Writes
    ``output_path`` (default: ``dst_tflite`` in place) and returns it.

    Raises:
      ValueError: ``src`` has no metadata, or its tensor metadata counts do not fit ``dst``.
    """
    src = Path(src_tflite).read_bytes()
    buffer = metadata_buffer(src)
    if buffer is None:
        raise ValueError(f"{src_tflite} has no {TFLITE_METADATA_KEY}")
    output_path = Path(output_path or dst_tflite)
    return atomic_write_bytes(output_path, attach_metadata(Path(dst_tflite).read_bytes(), buffer, read_files(src)))

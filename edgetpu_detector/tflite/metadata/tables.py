"""Encode and decode flatbuffer tables described by a slot table (``edgetpu_detector.tflite.metadata.schema.TABLES``).

Built only on the ``flatbuffers`` package: ``flatbuffers.Builder`` to write (children first, then
``StartObject`` / ``Prepend*Slot`` / ``EndObject``, as flatc's generated code does) and
``flatbuffers.table.Table`` to read. Values are plain Python:

* a table is a ``dict`` {field name: value}; a missing field (or ``None``) is not written;
* a union field is a pair ``(table name, dict)``;
* scalars are ``int`` / ``float`` / ``bool`` (enums as their integer codes); strings ``str``;
  vectors ``list`` (``bytes`` for a ``[ubyte]`` vector).

Scalars equal to 0 (the default of every scalar in the metadata schema) are not stored, like the generated
object API does; on reading, absent scalars come back as their default so that every scalar is present.
"""
import flatbuffers
from flatbuffers import number_types as nt
from flatbuffers.table import Table

# kind -> (size in bytes, Builder slot method, Builder element method, number_types flags, default)
_SCALARS = {
    "bool": (1, "PrependBoolSlot", "PrependBool", nt.BoolFlags, False),
    "byte": (1, "PrependInt8Slot", "PrependInt8", nt.Int8Flags, 0),
    "ubyte": (1, "PrependUint8Slot", "PrependUint8", nt.Uint8Flags, 0),
    "int": (4, "PrependInt32Slot", "PrependInt32", nt.Int32Flags, 0),
    "uint": (4, "PrependUint32Slot", "PrependUint32", nt.Uint32Flags, 0),
    "float": (4, "PrependFloat32Slot", "PrependFloat32", nt.Float32Flags, 0.0),
}


def _is_union(kind):
    return isinstance(kind, tuple) and kind[0] == "union"


def _slot_count(fields):
    return sum(2 if _is_union(kind) else 1 for _, kind in fields)


class TableCodec:
    """Reads and writes the flatbuffer tables of one schema.

    Args:
      tables: {table name: [(field name, kind), ...]}; list position = field slot, a union takes two.
      force_align: {(table name, field name): alignment} for vectors declared with ``force_align``.
    """

    def __init__(self, tables, force_align=None):
        self.tables = tables
        self.force_align = dict(force_align or {})

    # ----------------------------------------------------------------------------------------- writing
    def encode(self, root_table, value, file_identifier):
        """Serialize ``value`` (a dict for ``root_table``) into a finished flatbuffer (``bytes``)."""
        builder = flatbuffers.Builder(1024)
        root = self._write_table(builder, root_table, value)
        builder.Finish(root, file_identifier=file_identifier)
        return bytes(builder.Output())

    def _write_table(self, builder, name, value):
        fields = self.tables[name]
        unknown = set(value) - {field for field, _ in fields}
        if unknown:
            raise ValueError(f"{name}: unknown field(s) {sorted(unknown)}")
        entries = []  # (slot, scalar kind or "offset", value); children are built before StartObject
        slot = 0
        for field, kind in fields:
            item = value.get(field)
            if _is_union(kind):
                if item is not None:
                    member, member_value = item
                    codes = {table: code for code, table in kind[1].items()}
                    if member not in codes:
                        raise ValueError(f"{name}.{field}: {member!r} is not a member of the union")
                    entries.append((slot, "ubyte", codes[member]))
                    entries.append((slot + 1, "offset", self._write_table(builder, member, member_value)))
                slot += 2
                continue
            if item is not None:
                if isinstance(kind, str) and kind in _SCALARS:
                    entries.append((slot, kind, item))
                else:
                    entries.append((slot, "offset", self._write_child(builder, name, field, kind, item)))
            slot += 1
        builder.StartObject(slot)
        for entry_slot, kind, item in entries:
            if kind == "offset":
                builder.PrependUOffsetTRelativeSlot(entry_slot, item, 0)
            else:
                _, slot_method, _, _, default = _SCALARS[kind]
                getattr(builder, slot_method)(entry_slot, item, default)
        return builder.EndObject()

    def _write_child(self, builder, table, field, kind, item):
        if kind == "str":
            return builder.CreateString(item)
        if isinstance(kind, list):
            (element,) = kind
            if element in _SCALARS:
                size, _, method, _, _ = _SCALARS[element]
                builder.StartVector(size, len(item), self.force_align.get((table, field), size))
                for x in reversed(list(item)):
                    getattr(builder, method)(x)
                return builder.EndVector()
            if element == "str":
                offsets = [builder.CreateString(x) for x in item]
            else:
                offsets = [self._write_table(builder, element, x) for x in item]
            builder.StartVector(4, len(offsets), 4)
            for offset in reversed(offsets):
                builder.PrependUOffsetTRelative(offset)
            return builder.EndVector()
        return self._write_table(builder, kind, item)

    # ----------------------------------------------------------------------------------------- reading
    def decode(self, root_table, data, file_identifier=None):
        """Parse a finished flatbuffer (``bytes``) whose root is ``root_table`` into a dict.

        Raises:
          ValueError: the buffer is too short or its file identifier is not ``file_identifier``.
        """
        data = bytes(data)
        if len(data) < 8:
            raise ValueError("buffer too short for a flatbuffer")
        if file_identifier is not None and data[4:8] != file_identifier:
            raise ValueError(f"file identifier {data[4:8]!r}, expected {file_identifier!r}")
        root = flatbuffers.encode.Get(nt.UOffsetTFlags.packer_type, data, 0)
        return self._read_table(Table(data, root), root_table)

    def _read_table(self, tab, name):
        out = {}
        slot = 0
        for field, kind in self.tables[name]:
            if _is_union(kind):
                type_offset = tab.Offset(4 + 2 * slot)
                code = tab.Get(nt.Uint8Flags, type_offset + tab.Pos) if type_offset else 0
                value_offset = tab.Offset(4 + 2 * (slot + 1))
                if code and value_offset:
                    member = kind[1].get(code)
                    if member is None:
                        raise ValueError(f"{name}.{field}: unknown union type code {code}")
                    sub = Table(tab.Bytes, 0)
                    tab.Union(sub, value_offset)
                    out[field] = (member, self._read_table(sub, member))
                slot += 2
                continue
            offset = tab.Offset(4 + 2 * slot)
            slot += 1
            if isinstance(kind, str) and kind in _SCALARS:
                _, _, _, flags, default = _SCALARS[kind]
                out[field] = tab.Get(flags, offset + tab.Pos) if offset else default
            elif offset:
                out[field] = self._read_child(tab, offset, kind)
        return out

    def _read_child(self, tab, offset, kind):
        if kind == "str":
            return tab.String(offset + tab.Pos).decode("utf-8")
        if isinstance(kind, list):
            (element,) = kind
            start, length = tab.Vector(offset), tab.VectorLen(offset)
            if element in _SCALARS:
                size, _, _, flags, _ = _SCALARS[element]
                values = [tab.Get(flags, start + i * size) for i in range(length)]
                return bytes(values) if element == "ubyte" else values
            if element == "str":
                return [tab.String(start + 4 * i).decode("utf-8") for i in range(length)]
            return [self._read_table(Table(tab.Bytes, tab.Indirect(start + 4 * i)), element)
                    for i in range(length)]
        return self._read_table(Table(tab.Bytes, tab.Indirect(offset + tab.Pos)), kind)

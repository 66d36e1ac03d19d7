"""Read TFRecord files record by record with plain Python (no TensorFlow), with each record's byte offset.

Format source: TensorFlow's ``tensorflow/core/lib/io/record_writer.cc``: each record is
``uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)``, little
endian. The CRCs are not verified here (no crc32c implementation is at hand without TensorFlow); a
damaged record shows up as a length that overruns the file or as data that is not a tf.train.Example.
Offsets let worker processes read one record without scanning the file.
"""
from __future__ import annotations

from pathlib import Path
import struct

_HEADER = struct.Struct("<QI")
_FOOTER = 4


def iter_records(path):
    """Yield ``(offset, data bytes)`` for every record of a TFRecord file, in file order.

    Raises:
        ValueError: naming the file and offset when a record header or body is cut short.
    """
    path = Path(path)
    with path.open("rb") as handle:
        offset = 0
        while True:
            header = handle.read(_HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise ValueError(f"{path}: truncated record header at byte {offset}")
            length, _ = _HEADER.unpack(header)
            data = handle.read(length)
            footer = handle.read(_FOOTER)
            if len(data) < length or len(footer) < _FOOTER:
                raise ValueError(f"{path}: record at byte {offset} is cut short ({length} bytes announced)")
            yield offset, data
            offset += _HEADER.size + length + _FOOTER


def read_record_at(path, offset: int) -> bytes:
    """The data of the record starting at byte ``offset`` of a TFRecord file.

    Raises:
        ValueError: when the record is cut short.
    """
    path = Path(path)
    with path.open("rb") as handle:
        handle.seek(offset)
        header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise ValueError(f"{path}: no record at byte {offset}")
        length, _ = _HEADER.unpack(header)
        data = handle.read(length)
        if len(data) < length:
            raise ValueError(f"{path}: record at byte {offset} is cut short ({length} bytes announced)")
        return data

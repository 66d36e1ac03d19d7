"""Associated files of a ``.tflite`` model (labels.txt, ...), packed as a zip archive appended to the file.

Format source: the TFLite Support / MediaPipe ``MetadataPopulator`` (``metadata.py``,
``_populate_associated_files``) opens the model file with Python's ``zipfile`` in append mode and writes
each file with ``writestr`` (``ZIP_STORED``, no compression): the result is ``<flatbuffer><zip>``. A
flatbuffer reader ignores the trailing bytes; zip readers (Python's ``zipfile``, MediaPipe's C++
``ModelMetadataExtractor``) find the archive from its end-of-central-directory record. The metadata
(``AssociatedFile.name``) refers to a packed file by its base name.

Unlike the populator, entries get a fixed timestamp (1980-01-01) so that the same inputs give the same
bytes (the populator stamps the current time).
"""
import io
import zipfile

_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def pack_files(model_bytes, files):
    """Append ``files`` as a stored zip archive after ``model_bytes``.

    Args:
      model_bytes: ``.tflite`` flatbuffer bytes WITHOUT a trailing archive (use ``strip_files`` first).
      files: {base name: bytes}, e.g. ``{"labels.txt": b"date\\nfig\\n"}``; empty -> nothing appended.

    Returns:
      ``bytes``: the model followed by the archive.

    Raises:
      ValueError: ``model_bytes`` already ends in a zip archive, or a name contains a path separator.
    """
    if is_packed(model_bytes):
        raise ValueError("model already has packed associated files; strip them first")
    if not files:
        return bytes(model_bytes)
    stream = io.BytesIO(bytes(model_bytes))
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            if not name or "/" in name or "\\" in name:
                raise ValueError(f"associated file name must be a base name, got {name!r}")
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_DATE_TIME), bytes(data))
    return stream.getvalue()


def is_packed(data):
    """True when ``data`` (model bytes) ends in a zip archive."""
    return zipfile.is_zipfile(io.BytesIO(bytes(data)))


def read_files(data):
    """The packed files of a model: {name: bytes} in archive order ({} when there is no archive)."""
    if not is_packed(data):
        return {}
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def strip_files(data):
    """Model bytes without the trailing archive (unchanged when there is none).

    The archive starts at the first local file header; Python's ``zipfile`` gives its offset as
    ``header_offset`` of the first entry plus the length of any data prepended to the archive.
    """
    data = bytes(data)
    if not is_packed(data):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if not infos:
            return data
        # zipfile adds the prepended length ("concat") to every header_offset it reports.
        start = min(info.header_offset for info in infos)
    return data[:start]

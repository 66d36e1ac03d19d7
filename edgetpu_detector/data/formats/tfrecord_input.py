"""Reader for existing TFRecords in the TF Object Detection API schema, used as pass-through input.

Files: ``*.record``, ``*.tfrecord`` and sharded ``*.record-00000-of-00004`` (the TF OD API's
``open_sharded_output_tfrecords`` names). Each tf.train.Example must hold ``image/encoded`` and the
normalized ``image/object/bbox/{xmin,ymin,xmax,ymax}``; class names come from
``image/object/class/text`` or, when absent, from ``image/object/class/label`` through the given label
map; ``image/object/difficult`` and ``image/object/truncated`` are carried when present. The image bytes stay in the source file (the record's byte offset is kept) and go through the
same checks and the same JPEG pass-through rule as image files. The split comes from the file name.
"""
from __future__ import annotations

from pathlib import Path
import re

from edgetpu_detector.data.formats.base import RawAnnotation, RawObject, Unreadable, list_files, split_from_name
from edgetpu_detector.tfrecord import schema
from edgetpu_detector.tfrecord.example_proto import parse_example_features
from edgetpu_detector.tfrecord.file import iter_records

NAME = "tfrecord"
_PATTERN = re.compile(r"\.(t?f?record)(-\d{5}-of-\d{5})?$", re.IGNORECASE)


def annotation_files(data_dir: Path) -> list[Path]:
    """TFRecord files under ``data_dir`` (see the module docstring for the names)."""
    return list_files(data_dir, lambda p: bool(_PATTERN.search(p.name)))


def detect(data_dir: Path) -> bool:
    """True when a TFRecord file exists."""
    return bool(annotation_files(data_dir))


def _text(features: dict, key: str) -> str:
    values = features.get(key) or [b""]
    return values[0].decode("utf-8", "replace")


def read(data_dir: Path, ids_to_names: dict | None = None):
    """Yield one RawAnnotation per Example, in file order; ``ids_to_names`` maps class ids when no text is stored."""
    for path in annotation_files(data_dir):
        stem = _PATTERN.sub("", path.name)
        split = split_from_name(stem)
        try:
            for index, (offset, data) in enumerate(iter_records(path)):
                where = f"example #{index}"
                try:
                    features = parse_example_features(data)
                except ValueError as exc:
                    yield Unreadable(path, "annotation_invalid", f"{where}: {exc}")
                    continue
                if not features.get(schema.ENCODED):
                    yield Unreadable(path, "annotation_invalid", f"{where}: no {schema.ENCODED}",
                                     boxes=len(features.get(schema.XMIN, [])))
                    continue
                edges = [features.get(key, []) for key in (schema.XMIN, schema.YMIN, schema.XMAX, schema.YMAX)]
                count = max(len(e) for e in edges)
                texts = [t.decode("utf-8", "replace") for t in features.get(schema.CLASS_TEXT, [])]
                labels = features.get(schema.CLASS_LABEL, [])
                difficult, truncated = features.get(schema.DIFFICULT, []), features.get(schema.TRUNCATED, [])
                objects = []
                for i in range(count):
                    values = [e[i] if i < len(e) else float("nan") for e in edges]
                    problem = ""
                    if i < len(texts) and texts[i]:
                        name = texts[i]
                    elif i < len(labels) and ids_to_names and labels[i] in ids_to_names:
                        name = ids_to_names[labels[i]]
                    else:
                        name = ""
                        problem = (f"class id {labels[i] if i < len(labels) else None} has no class text and "
                                   "is not in the given label map")
                    objects.append(RawObject(name, *values, normalized=True, raw=f"{where} box #{i + 1}",
                                             problem=problem, difficult=bool(difficult[i:i + 1] and difficult[i]),
                                             truncated=bool(truncated[i:i + 1] and truncated[i])))
                source_id = _text(features, schema.SOURCE_ID)
                filename = _text(features, schema.FILENAME) or Path(source_id).name or f"{stem}-{index}"
                height = (features.get(schema.HEIGHT) or [None])[0]
                width = (features.get(schema.WIDTH) or [None])[0]
                yield RawAnnotation(source=path, image_name=filename, image_path=path, record_offset=offset,
                                    width=width, height=height, objects=objects, split=split, where=where,
                                    stem_fallback=False, source_id=source_id or None)
        except ValueError as exc:
            yield Unreadable(path, "annotation_invalid", str(exc).replace(f"{path}: ", "", 1))

"""The format readers by name and the automatic detection of a folder's format."""
from __future__ import annotations

from pathlib import Path

from edgetpu_detector.data.formats import (
    cloud_annotations,
    coco,
    createml,
    csv_labels,
    labelme,
    tfrecord_input,
    voc,
    yolo,
)

READERS = {module.NAME: module for module in (voc, cloud_annotations, coco, createml, labelme, csv_labels, yolo,
                                               tfrecord_input)}
FORMAT_NAMES = tuple(READERS)


def detect_formats(data_dir) -> list[str]:
    """Every format whose files exist under ``data_dir``, in detection order."""
    data_dir = Path(data_dir)
    return [name for name, module in READERS.items() if module.detect(data_dir)]


def detect_format(data_dir) -> str:
    """The format of a dataset folder (first of ``FORMAT_NAMES`` found).

    Raises:
        ValueError: naming the folder when no known annotation file is found.
    """
    found = detect_formats(data_dir)
    if not found:
        raise ValueError(f"{data_dir}: no annotations found in any known format ({', '.join(FORMAT_NAMES)}): "
                         "expected .xml, _annotations.json, COCO .json, CreateML .json, labelme .json, tutorial .csv, "
                         "YOLO .txt + classes.txt or .record files")
    return found[0]

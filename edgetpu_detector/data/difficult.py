"""PASCAL VOC "difficult" objects at preprocessing: counted, and left out of training when asked.

Source: the TF Object Detection API's ``dataset_tools/create_pascal_tf_record.py`` (``--ignore_difficult_instances``
skips difficult objects when writing the records) and the PASCAL VOC devkit, whose evaluation ignores them.
Here ``ignore_difficult`` drops them from the train split only: the test and val splits keep them, flagged
(``image/object/difficult``), because evaluation needs them as "don't care" regions (a detection on one is
neither a true nor a false positive). An image whose boxes were all difficult stays, as a negative.
"""
from __future__ import annotations

from edgetpu_detector.data.issues import Issues
from edgetpu_detector.tfrecord.records import ImageRecord


def drop_difficult(records: list[ImageRecord], issues: Issues) -> int:
    """Remove the difficult boxes of ``records`` in place, reporting one ``difficult_ignored`` issue per image.

    Returns:
      the number of boxes removed (the caller counts them as skipped).
    """
    dropped = 0
    for record in records:
        kept = [box for box in record.boxes if not box.difficult]
        n = len(record.boxes) - len(kept)
        if n:
            record.boxes = kept
            dropped += n
            issues.add("difficult_ignored", record.xml_path, f"image {record.relpath} has {n} difficult "
                       f"box{'es' if n > 1 else ''}", "left out of the train split (ignore_difficult)")
    return dropped


def count_difficult(records: list[ImageRecord]) -> int:
    """Difficult boxes in ``records``."""
    return sum(box.difficult for record in records for box in record.boxes)

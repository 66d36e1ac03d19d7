"""Labelled datasets: the annotation formats (``formats/``: readers, and LabelImg's writers), validation of every
image and box with its issue report, class names and the label map, the train/test split, difficult objects,
the synthetic default dataset, dataset reports, and ``preprocess`` (labelled folder -> label map, CSVs,
TFRecords).

May import: ``tfrecord``, ``images``, ``core``.
"""

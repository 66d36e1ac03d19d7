"""Labelled datasets: the annotation formats (``formats/``), validation of every image and box with its issue
report, class names and the label map, the train/test split, the synthetic default dataset, dataset
reports, and ``preprocess`` (labelled folder -> label map, CSVs, TFRecords).

May import: ``tfrecord``, ``images``, ``core``.
"""

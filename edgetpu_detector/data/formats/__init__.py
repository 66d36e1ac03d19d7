"""Annotation formats read by the preprocess step, one module each, and their automatic detection; the
writers of LabelImg's three formats (``labelimg_writers``: pre-labels, the synthetic dataset).

=====================  ======================================================================
name                   what
=====================  ======================================================================
``voc``                Pascal VOC XML (LabelImg, CVAT, VoTT): ``voc`` (reader), ``voc_xml`` (parser)
``cloud_annotations``  IBM Cloud Annotations ``_annotations.json``: ``cloud_annotations``
``coco``               COCO detection JSON: ``coco``
``createml``           CreateML JSON (LabelImg, Roboflow, Apple Create ML): ``createml``
``labelme``            labelme JSON (rectangles and polygons): ``labelme``
``csv``                TF OD API tutorials' CSV: ``csv_labels``
``yolo``               LabelImg YOLO txt + ``classes.txt``: ``yolo``
``tfrecord``           TF OD API TFRecords (pass-through): ``tfrecord_input``
=====================  ======================================================================

``registry.detect_format`` tries them in that order and returns the first found, so a LabelImg folder that
also ships tutorial CSVs is read from its XML unless ``format="csv"`` is asked for.

May import: ``tfrecord`` (TFRecords as input), ``images``, ``core``; nothing else of ``data``.
"""

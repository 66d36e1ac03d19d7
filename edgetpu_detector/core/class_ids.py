"""Class numbering, declared once.

Label-map ids start at 1 (the TF Object Detection API's ``StringIntLabelMap``; 0 is the background). The
detector's class scores have the background in column 0, so column ``k`` is label-map id ``k``. Everything
that numbers classes from 0 -- the ``TFLite_Detection_PostProcess`` op's classes output, TensorFlow's NMS over
the foreground columns, Coral's ``labels.txt`` (line ``i``), pycoral's ``Object.id`` -- uses the class index
``id - 1``.
"""

FIRST_LABEL_MAP_ID = 1


def label_map_id(class_index):
    """0-based class index (int or numpy array) -> label-map id (``index + 1``)."""
    return class_index + FIRST_LABEL_MAP_ID


def class_index(label_map_id_):
    """Label-map id (int or numpy array) -> 0-based class index (``id - 1``)."""
    return label_map_id_ - FIRST_LABEL_MAP_ID

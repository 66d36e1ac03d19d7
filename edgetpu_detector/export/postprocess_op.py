"""The ``TFLite_Detection_PostProcess`` custom op, declared from TF2 through ``experimental_implements``.

Source: TFLite's ``kernels/detection_postprocess.cc`` (op spec) and the TF Object Detection API's
``export_tflite_graph_lib_tf2.py``: a ``tf.function`` whose ``experimental_implements`` attribute is the
NodeDef text ``name: "TFLite_Detection_PostProcess" attr {...}`` returns dummy constants; the TFLite
converter (with ``allow_custom_ops=True``) replaces the call by the custom op with those attributes.

Op inputs: box encodings float [1, A, 4] ``ty, tx, th, tw``; scores float [1, A, num_classes + 1] (column 0
the background, skipped by the op); anchors float32 constant [A, 4] ``ycenter, xcenter, h, w``. Outputs:
``edgetpu_detector.tflite.detection_postprocess``.

What the op does with its attributes (read in ``detection_postprocess.cc``, then measured on our models):

* anchors are candidates when a class score is ``>= nms_score_threshold``; ``count`` = min(max_detections,
  boxes left after NMS). Fast NMS (``use_regular_nms`` false) never writes the rows past ``count``: they
  hold whatever memory held (seen: scores 3.4e38, classes 3.9e15, and with XNNPACK off, rows that look like
  valid detections). Regular NMS zeroes them. With threshold 0 every anchor is a candidate and every row is
  written whenever max_detections is below the boxes surviving NMS (about half of 1917 anchors at IoU 0.6).
  A threshold of 1e-8 (Coral's SSD v2, the TF OD API) is not enough for int8 models: their scores are
  multiples of 1/256 and quantize to exactly 0 below 1/512, so a confident "nothing here" drops candidates.
* ``max_classes_per_detection`` k > 1 (fast NMS) writes k rows per selected box (its k best classes) while
  ``count`` still counts boxes: a client reading ``count`` rows (MediaPipe, Frigate, our runners) sees k times
  fewer boxes than selected, and k above the number of classes leaves rows unwritten.
* ``detections_per_class`` does not reach the converted op (the kernel's default, 100, applies).
"""
from dataclasses import dataclass

import tensorflow as tf

from edgetpu_detector.tflite.detection_postprocess import POSTPROCESS_OP


@dataclass(frozen=True)
class PostProcessAttrs:
    """Attributes of the custom op (names as in ``detection_postprocess.cc``)."""

    num_classes: int
    max_detections: int = 100
    max_classes_per_detection: int = 1
    detections_per_class: int = 100
    use_regular_nms: bool = False
    nms_score_threshold: float = 0.0
    nms_iou_threshold: float = 0.6
    y_scale: float = 10.0
    x_scale: float = 10.0
    h_scale: float = 5.0
    w_scale: float = 5.0

    def __post_init__(self):
        for name in ("num_classes", "max_detections", "max_classes_per_detection", "detections_per_class"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 < self.nms_iou_threshold <= 1.0:
            raise ValueError(f"nms_iou_threshold must be in (0, 1], got {self.nms_iou_threshold}")
        if not 0.0 <= self.nms_score_threshold < 1.0:
            raise ValueError(f"nms_score_threshold must be in [0, 1), got {self.nms_score_threshold}")
        if min(self.y_scale, self.x_scale, self.h_scale, self.w_scale) <= 0:
            raise ValueError("box coder scales must be > 0")

    @classmethod
    def from_config(cls, config, nms):
        """Attributes for ``DetectorConfig`` ``config`` and ``NMSConfig`` ``nms``.

        Raises:
          ValueError: ``max_classes_per_detection`` above the number of classes (the op would leave rows
            unwritten), or with per-class NMS (it applies to fast NMS only).
        """
        classes_per_box = int(nms.max_classes_per_detection)
        if classes_per_box > int(config.num_classes):
            raise ValueError(f"max_classes_per_detection {classes_per_box} is above the {config.num_classes} "
                             "classes: the op would leave output rows unwritten")
        if classes_per_box > 1 and nms.use_regular_nms:
            raise ValueError("max_classes_per_detection > 1 applies to the fast NMS only (use_regular_nms=false)")
        return cls(num_classes=int(config.num_classes), max_detections=int(nms.max_detections),
                   max_classes_per_detection=classes_per_box,
                   detections_per_class=int(nms.max_detections_per_class), use_regular_nms=bool(nms.use_regular_nms),
                   nms_score_threshold=float(nms.nms_score_threshold), nms_iou_threshold=float(nms.iou_threshold),
                   y_scale=float(config.box_coder.y_scale), x_scale=float(config.box_coder.x_scale),
                   h_scale=float(config.box_coder.h_scale), w_scale=float(config.box_coder.w_scale))

    def implements_signature(self):
        """NodeDef text for ``tf.function(experimental_implements=...)``."""
        ints = ("max_detections", "max_classes_per_detection", "detections_per_class", "num_classes")
        floats = ("nms_score_threshold", "nms_iou_threshold", "y_scale", "x_scale", "h_scale", "w_scale")
        parts = [f'name: "{POSTPROCESS_OP}"']
        parts += [f'attr {{ key: "{k}" value {{ i: {int(getattr(self, k))} }} }}' for k in ints]
        parts += [f'attr {{ key: "{k}" value {{ f: {float(getattr(self, k))!r} }} }}' for k in floats]
        parts.append(f'attr {{ key: "use_regular_nms" value {{ b: {str(bool(self.use_regular_nms)).lower()} }} }}')
        return " ".join(parts)


def postprocess_op_fn(attrs):
    """A ``tf.function(box_encodings, scores, anchors)`` that the TFLite converter turns into the custom op.

    In TensorFlow it returns four dummy scalars (boxes, classes, scores, count); only the converted model
    computes detections.
    """

    @tf.function(experimental_implements=attrs.implements_signature())
    def detection_postprocess(box_encodings, scores, anchors):
        del box_encodings, scores, anchors
        return (tf.constant(0.0, name="boxes"), tf.constant(0.0, name="classes"),
                tf.constant(0.0, name="scores"), tf.constant(0.0, name="num_detections"))

    return detection_postprocess

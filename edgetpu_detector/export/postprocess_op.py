"""The ``TFLite_Detection_PostProcess`` custom op, declared from TF2 through ``experimental_implements``.

Source: TFLite's ``kernels/detection_postprocess.cc`` (op spec) and the TF Object Detection API's
``export_tflite_graph_lib_tf2.py``: a ``tf.function`` whose ``experimental_implements`` attribute is the
NodeDef text ``name: "TFLite_Detection_PostProcess" attr {...}`` returns dummy constants; the TFLite
converter (with ``allow_custom_ops=True``) replaces the call by the custom op with those attributes.

Op inputs: box encodings float [1, A, 4] ``ty, tx, th, tw``; scores float [1, A, num_classes + 1] (column 0
the background, skipped by the op); anchors float32 constant [A, 4] ``ycenter, xcenter, h, w``.
Op outputs (the order pycoral's ``adapters.detect`` reads): boxes float32 [1, N, 4] ymin, xmin, ymax, xmax
normalized, NOT clipped; classes float32 [1, N] 0-based class index (label-map id - 1); scores float32
[1, N]; count float32 [1]. ``N = max_detections``.
"""
from dataclasses import dataclass

import tensorflow as tf

TFLITE_POSTPROCESS_OP = "TFLite_Detection_PostProcess"
# Names given to the four model outputs (as in TF1 OD API ``.tflite`` files), in output order.
TFLITE_OUTPUT_NAMES = (TFLITE_POSTPROCESS_OP, f"{TFLITE_POSTPROCESS_OP}:1", f"{TFLITE_POSTPROCESS_OP}:2",
                       f"{TFLITE_POSTPROCESS_OP}:3")
# Signature output keys for the same four tensors (boxes, classes, scores, count). pycoral's detect adapter
# (pycoral/adapters/detect.py, get_objects) reads a model that has a signature by these keys:
# output_0 = count, output_1 = scores, output_2 = classes, output_3 = boxes -- the TF2 OD API exporter's
# layout -- and a model without one by position (boxes, classes, scores, count). Our files satisfy both.
TFLITE_SIGNATURE_KEYS = ("output_3", "output_2", "output_1", "output_0")


@dataclass(frozen=True)
class PostProcessAttrs:
    """Attributes of the custom op (names as in ``detection_postprocess.cc``)."""

    num_classes: int
    max_detections: int = 100
    max_classes_per_detection: int = 1
    detections_per_class: int = 100
    use_regular_nms: bool = False
    nms_score_threshold: float = 1e-8
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
    def from_config(cls, config, nms, use_regular_nms=False):
        """Attributes for ``DetectorConfig`` ``config`` and ``NMSConfig`` ``nms``."""
        return cls(num_classes=int(config.num_classes), max_detections=int(nms.max_detections),
                   detections_per_class=int(nms.max_detections_per_class), use_regular_nms=bool(use_regular_nms),
                   nms_score_threshold=float(nms.score_threshold), nms_iou_threshold=float(nms.iou_threshold),
                   y_scale=float(config.box_coder.y_scale), x_scale=float(config.box_coder.x_scale),
                   h_scale=float(config.box_coder.h_scale), w_scale=float(config.box_coder.w_scale))

    def implements_signature(self):
        """NodeDef text for ``tf.function(experimental_implements=...)``."""
        ints = ("max_detections", "max_classes_per_detection", "detections_per_class", "num_classes")
        floats = ("nms_score_threshold", "nms_iou_threshold", "y_scale", "x_scale", "h_scale", "w_scale")
        parts = [f'name: "{TFLITE_POSTPROCESS_OP}"']
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

"""Detection post-processing: its settings (``NMSConfig``, also those of the TFLite op) and the TensorFlow
implementation: decode box encodings, score, and non-maximum suppression.

``postprocess`` is the float reference of what TFLite's ``TFLite_Detection_PostProcess`` op does on the
device with ``use_regular_nms``, and what the SavedModel's serving signature and the Keras detector use. NMS
is per class, as the TF Object Detection API's ``batch_multiclass_non_max_suppression``
(``tf.image.combined_non_max_suppression``).
"""
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class NMSConfig:
    """Post-processing settings, of the TensorFlow ``postprocess`` and of the TFLite op alike.

    Attributes:
      nms_score_threshold: candidates scoring below it are dropped before NMS (the op's attribute of that
        name). The exported models use 0: every one of the ``max_detections`` output slots then holds a real
        (possibly low-score) detection -- the TFLite op's fast NMS leaves slots past ``count`` unwritten, and
        clients such as pycoral read every slot -- and clients apply their own threshold
        (``edgetpu_detector.export.postprocess_op``).
      iou_threshold: NMS IoU threshold.
      max_detections: N, the detections (output slots) per image.
      max_detections_per_class: candidates per class kept by per-class NMS (100 is also the TFLite kernel's
        default, which it always uses: the converter does not carry this attribute into the op).
      use_regular_nms: TFLite op only: True for per-class NMS (as ``postprocess``), False for the op's fast
        class-agnostic NMS.
      max_classes_per_detection: TFLite op with fast NMS only: classes reported per box (1: one class per
        box, what pycoral and Frigate expect; see ``edgetpu_detector.export.postprocess_op``).
    """

    nms_score_threshold: float = 0.0
    iou_threshold: float = 0.6
    max_detections: int = 100
    max_detections_per_class: int = 100
    use_regular_nms: bool = True
    max_classes_per_detection: int = 1


def postprocess(box_encodings, class_logits, anchors, box_coder, nms=NMSConfig()):
    """Turn raw detector outputs into the TF OD API's detection tensors.

    Args:
      box_encodings: float32 [B, A, 4] ``ty, tx, th, tw``.
      class_logits: float32 [B, A, C + 1]; column 0 is the background.
      anchors: float32 [A, 4] ``ycenter, xcenter, height, width`` normalized.
      box_coder: ``edgetpu_detector.ssd.box_coder.BoxCoder``.
      nms: NMSConfig.

    Returns:
      dict of
        ``detection_boxes``: float32 [B, N, 4] ymin, xmin, ymax, xmax, clipped to [0, 1];
        ``detection_classes``: float32 [B, N] label-map ids (1-based, as the TF OD API's TF2 exporter);
        ``detection_scores``: float32 [B, N] sigmoid scores, descending;
        ``num_detections``: float32 [B] number of valid rows; rows past it are zero.
      ``N = nms.max_detections``.
    """
    anchors = tf.convert_to_tensor(anchors, tf.float32)
    boxes = box_coder.decode(box_encodings, anchors)
    # NMS compares the decoded, unclipped boxes, as TFLite_Detection_PostProcess does on the device, so that
    # both keep the same detections; only the outputs are clipped.
    scores = tf.sigmoid(class_logits)[:, :, 1:]
    result = tf.image.combined_non_max_suppression(
        boxes[:, :, tf.newaxis, :], scores,
        max_output_size_per_class=nms.max_detections_per_class,
        max_total_size=nms.max_detections,
        iou_threshold=nms.iou_threshold,
        score_threshold=nms.nms_score_threshold,
        pad_per_class=False,
        clip_boxes=False)
    return {
        "detection_boxes": tf.clip_by_value(result.nmsed_boxes, 0.0, 1.0),
        "detection_classes": result.nmsed_classes + 1.0,
        "detection_scores": result.nmsed_scores,
        "num_detections": tf.cast(result.valid_detections, tf.float32),
    }

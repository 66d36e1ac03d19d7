"""Detection post-processing in TensorFlow: decode box encodings, score, and non-maximum suppression.

This is the float reference of what TFLite's ``TFLite_Detection_PostProcess`` op does on the device, and
what the SavedModel's serving signature and the evaluation step use. NMS is per class, as the TF Object
Detection API's ``batch_multiclass_non_max_suppression`` (``tf.image.combined_non_max_suppression``).
"""
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class NMSConfig:
    """Post-processing thresholds (defaults: the TF OD API SSD-MobileNet configs, eval score threshold 0)."""

    score_threshold: float = 1e-8
    iou_threshold: float = 0.6
    max_detections: int = 100
    max_detections_per_class: int = 100


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
        score_threshold=nms.score_threshold,
        pad_per_class=False,
        clip_boxes=False)
    return {
        "detection_boxes": tf.clip_by_value(result.nmsed_boxes, 0.0, 1.0),
        "detection_classes": result.nmsed_classes + 1.0,
        "detection_scores": result.nmsed_scores,
        "num_detections": tf.cast(result.valid_detections, tf.float32),
    }

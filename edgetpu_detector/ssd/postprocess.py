"""Detection post-processing: its settings (``NMSConfig``, also those of the TFLite op) and the TensorFlow
implementation: decode box encodings, score, and non-maximum suppression.

``postprocess`` is the float reference of what TFLite's ``TFLite_Detection_PostProcess`` op does on the
device, and what the SavedModel's serving signature and the Keras detector use, in both of the op's modes:
per-class NMS (``use_regular_nms``; the TF Object Detection API's ``batch_multiclass_non_max_suppression``,
``tf.image.combined_non_max_suppression``) or the op's fast NMS (each anchor scored by its best class, then
one class-agnostic NMS: ``tf.image.non_max_suppression_padded``).
"""
from dataclasses import dataclass

import tensorflow as tf

from edgetpu_detector.core.class_ids import label_map_id


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
      use_regular_nms: True for per-class NMS, False for the op's fast class-agnostic NMS (both here and in
        the TFLite op).
      max_classes_per_detection: TFLite op with fast NMS only: classes reported per box (1: one class per
        box, what pycoral and Frigate expect; see ``edgetpu_detector.export.postprocess_op``); ``postprocess``
        reports one.
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
    if nms.use_regular_nms:
        result = tf.image.combined_non_max_suppression(
            boxes[:, :, tf.newaxis, :], scores,
            max_output_size_per_class=nms.max_detections_per_class,
            max_total_size=nms.max_detections,
            iou_threshold=nms.iou_threshold,
            score_threshold=nms.nms_score_threshold,
            pad_per_class=False,
            clip_boxes=False)
        detected = (result.nmsed_boxes, result.nmsed_classes, result.nmsed_scores, result.valid_detections)
    else:
        detected = _class_agnostic_nms(boxes, scores, nms)
    nmsed_boxes, nmsed_classes, nmsed_scores, valid = detected
    return {
        "detection_boxes": tf.clip_by_value(nmsed_boxes, 0.0, 1.0),
        "detection_classes": label_map_id(nmsed_classes),
        "detection_scores": nmsed_scores,
        "num_detections": tf.cast(valid, tf.float32),
    }


def _class_agnostic_nms(boxes, scores, nms):
    """The op's fast NMS: each anchor's best class and score, one NMS over all anchors (one class per box).

    Returns (boxes [B, N, 4], 0-based classes float32 [B, N], scores [B, N], valid [B]), rows past valid zero.
    """
    best_scores = tf.reduce_max(scores, axis=-1)
    best_classes = tf.cast(tf.argmax(scores, axis=-1), tf.float32)
    # The op keeps candidates scoring >= its threshold; TensorFlow's NMS keeps those scoring above it.
    threshold = tf.experimental.numpy.nextafter(tf.constant(nms.nms_score_threshold, tf.float32), -1.0)
    indices, valid = tf.image.non_max_suppression_padded(
        boxes, best_scores, nms.max_detections, iou_threshold=nms.iou_threshold, score_threshold=threshold,
        pad_to_max_output_size=True, canonicalized_coordinates=True)
    mask = tf.sequence_mask(valid, nms.max_detections)
    out = [tf.gather(t, indices, batch_dims=1) for t in (boxes, best_classes, best_scores)]
    out = [tf.where(mask[..., tf.newaxis] if t.shape.rank == 3 else mask, t, tf.zeros_like(t)) for t in out]
    return (*out, valid)

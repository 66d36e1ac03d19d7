"""SSD target assignment: argmax matching of ground truth to anchors by IoU, and the regression targets.

Source: Liu et al., "SSD" (ECCV 2016), section 2.2 "Matching strategy"; the TF Object Detection API's
``matchers/argmax_matcher.py`` with the SSD-MobileNet settings (matched and unmatched thresholds 0.5,
``force_match_for_each_row: true`` so that every ground-truth box gets at least its best anchor).
Runs in TensorFlow graph mode, inside ``tf.data``.
"""
import tensorflow as tf

from edgetpu_detector.ssd.box_ops import center_to_corners, pairwise_iou

IGNORE = -1  # class target of anchors between the unmatched and matched thresholds


def assign_targets(gt_boxes, gt_classes, anchors, box_coder, matched_threshold=0.5,
                   unmatched_threshold=0.5):
    """Match ground truth to anchors and build the SSD training targets of one image.

    Args:
      gt_boxes: float32 [N, 4] ymin, xmin, ymax, xmax normalized to [0, 1]; N may be 0 (a negative image).
      gt_classes: int32 [N] label-map ids (>= 1).
      anchors: float32 [A, 4] ycenter, xcenter, height, width normalized.
      box_coder: ``edgetpu_detector.ssd.box_coder.BoxCoder``.
      matched_threshold: IoU at or above which an anchor is positive.
      unmatched_threshold: IoU below which an anchor is background; anchors in between are ignored.

    Returns:
      box_targets: float32 [A, 4] encodings ``ty, tx, th, tw`` (zero for unmatched anchors).
      class_targets: int32 [A]; 0 background, ``k >= 1`` the label-map id, ``IGNORE`` (-1) ignored.
    """
    anchors = tf.convert_to_tensor(anchors, tf.float32)
    num_anchors = tf.shape(anchors)[0]
    gt_boxes = tf.reshape(tf.cast(gt_boxes, tf.float32), [-1, 4])
    gt_classes = tf.cast(tf.reshape(gt_classes, [-1]), tf.int32)
    num_gt = tf.shape(gt_boxes)[0]

    def no_objects():
        return tf.zeros([num_anchors, 4], tf.float32), tf.zeros([num_anchors], tf.int32)

    def match():
        iou = pairwise_iou(gt_boxes, center_to_corners(anchors))  # [N, A]
        best_gt = tf.argmax(iou, axis=0, output_type=tf.int32)  # [A]
        best_iou = tf.reduce_max(iou, axis=0)
        match_index = tf.where(best_iou >= matched_threshold, best_gt, -1)
        match_index = tf.where((best_iou < matched_threshold) & (best_iou >= unmatched_threshold),
                               -2, match_index)
        # Force-match: every ground-truth box claims its best anchor.
        best_anchor = tf.argmax(iou, axis=1, output_type=tf.int32)  # [N]
        match_index = tf.tensor_scatter_nd_update(match_index, best_anchor[:, None], tf.range(num_gt))
        matched = match_index >= 0
        safe_index = tf.maximum(match_index, 0)
        matched_boxes = tf.gather(gt_boxes, safe_index)
        box_targets = box_coder.encode(matched_boxes, anchors)
        box_targets = tf.where(matched[:, None], box_targets, 0.0)
        class_targets = tf.where(matched, tf.gather(gt_classes, safe_index), 0)
        class_targets = tf.where(match_index == -2, IGNORE, class_targets)
        return box_targets, class_targets

    return tf.cond(num_gt > 0, match, no_objects)

"""SSD training losses: sigmoid focal loss for classification, smooth L1 for localization.

Sources: Lin et al., "Focal Loss for Dense Object Detection" (ICCV 2017), eq. 5 (alpha 0.25, gamma 2);
Girshick, "Fast R-CNN" (ICCV 2015), eq. 3 (smooth L1); normalization by the number of matched anchors as in
the TF Object Detection API (``normalize_loss_by_num_matches: true``). Focal loss replaces SSD's hard
negative mining: it down-weights the many easy background anchors instead of discarding them.
"""
from dataclasses import dataclass

import tensorflow as tf

from edgetpu_detector.ssd.target_assigner import IGNORE


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and focal-loss parameters."""

    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    classification_weight: float = 1.0
    localization_weight: float = 1.0


def sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """Per-anchor sigmoid focal loss.

    Args:
      logits: float32 [B, A, C + 1].
      targets: float32 [B, A, C + 1] one-hot (column 0 background).
      alpha: weight of the positive term.
      gamma: focusing parameter.

    Returns:
      float32 [B, A], the loss summed over classes.
    """
    probs = tf.sigmoid(logits)
    ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    p_t = targets * probs + (1.0 - targets) * (1.0 - probs)
    alpha_t = targets * alpha + (1.0 - targets) * (1.0 - alpha)
    return tf.reduce_sum(alpha_t * tf.pow(1.0 - p_t, gamma) * ce, axis=-1)


def smooth_l1(predictions, targets, delta=1.0):
    """Per-anchor smooth L1 (Huber) loss summed over the 4 box coordinates: float32 [B, A]."""
    diff = tf.abs(predictions - targets)
    loss = tf.where(diff < delta, 0.5 * diff * diff / delta, diff - 0.5 * delta)
    return tf.reduce_sum(loss, axis=-1)


def ssd_loss(box_encodings, class_logits, box_targets, class_targets, config=LossConfig()):
    """Total SSD loss of a batch.

    Args:
      box_encodings: float32 [B, A, 4] predicted ``ty, tx, th, tw``.
      class_logits: float32 [B, A, C + 1].
      box_targets: float32 [B, A, 4] from ``edgetpu_detector.ssd.target_assigner.assign_targets``.
      class_targets: int32 [B, A]; 0 background, ``k`` label-map id, -1 ignored.
      config: LossConfig.

    Returns:
      dict of scalar float32 tensors ``loss``, ``classification_loss``, ``localization_loss`` and
      ``num_positives`` (anchors matched in the batch).
    """
    num_columns = tf.shape(class_logits)[-1]
    # Column 0 (background) is left out of the loss, as in RetinaNet: a background anchor is one whose
    # class columns are all 0. The column stays in the outputs because TFLite's post-processing op and
    # model-zoo class heads expect it, and both ignore it when scoring.
    positive = tf.cast(class_targets > 0, tf.float32)
    valid = tf.cast(class_targets != IGNORE, tf.float32)
    one_hot = tf.one_hot(tf.maximum(class_targets, 0), num_columns, dtype=tf.float32)
    num_positives = tf.reduce_sum(positive)
    normalizer = tf.maximum(num_positives, 1.0)
    cls = tf.reduce_sum(sigmoid_focal_loss(class_logits[..., 1:], one_hot[..., 1:], config.focal_alpha,
                                           config.focal_gamma)
                        * valid) / normalizer
    loc = tf.reduce_sum(smooth_l1(box_encodings, box_targets) * positive) / normalizer
    cls = config.classification_weight * cls
    loc = config.localization_weight * loc
    return {"loss": cls + loc, "classification_loss": cls, "localization_loss": loc,
            "num_positives": num_positives}

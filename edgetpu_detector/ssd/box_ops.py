"""Box maths, once for the whole project (TensorFlow; numpy arrays are accepted and ``.numpy()`` gives them
back): corner and center forms, and pairwise IoU.

Box layouts: corners ``ymin, xmin, ymax, xmax`` (the TF Object Detection API's, used for ground truth and
detections) and centers ``ycenter, xcenter, height, width`` (anchors). Units are whatever the caller uses
(normalized [0, 1] everywhere in this project).
"""
import tensorflow as tf


def center_to_corners(boxes):
    """float32 [..., 4] ``ycenter, xcenter, h, w`` -> float32 [..., 4] ``ymin, xmin, ymax, xmax``."""
    yc, xc, h, w = tf.unstack(tf.convert_to_tensor(boxes, tf.float32), axis=-1)
    return tf.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=-1)


def pairwise_iou(boxes1, boxes2):
    """Intersection over union of every pair of boxes.

    Args:
      boxes1: float32 [N, 4] ymin, xmin, ymax, xmax (N may be 0).
      boxes2: float32 [M, 4] same layout and units as ``boxes1`` (M may be 0).

    Returns:
      float32 [N, M] IoU in [0, 1]; 0 where the union is empty.
    """
    boxes1 = tf.reshape(tf.convert_to_tensor(boxes1, tf.float32), [-1, 4])
    boxes2 = tf.reshape(tf.convert_to_tensor(boxes2, tf.float32), [-1, 4])
    ymin1, xmin1, ymax1, xmax1 = tf.split(boxes1, 4, axis=1)
    ymin2, xmin2, ymax2, xmax2 = tf.unstack(boxes2, axis=1)
    inter_h = tf.maximum(0.0, tf.minimum(ymax1, ymax2) - tf.maximum(ymin1, ymin2))
    inter_w = tf.maximum(0.0, tf.minimum(xmax1, xmax2) - tf.maximum(xmin1, xmin2))
    inter = inter_h * inter_w
    area1 = (ymax1 - ymin1) * (xmax1 - xmin1)
    area2 = (ymax2 - ymin2) * (xmax2 - xmin2)
    union = area1 + area2 - inter
    return tf.math.divide_no_nan(inter, union)

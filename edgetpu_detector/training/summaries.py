"""TensorBoard images of training batches: ground truth (green) and the detector's top anchors (red)."""
import tensorflow as tf

_GREEN_RED = tf.constant([[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]])


def detection_images(images, box_encodings, class_logits, box_targets, class_targets, anchors, box_coder,
                     max_images=3, max_boxes=10, score_threshold=0.3):
    """Draw ground truth and predictions on training images.

    Args:
      images: float32 [B, S, S, 3] pixels in [0, 255].
      box_encodings: float32 [B, A, 4]; class_logits: float32 [B, A, C + 1] (the model's outputs).
      box_targets: float32 [B, A, 4]; class_targets: int32 [B, A] (``edgetpu_detector.ssd.target_assigner``).
      anchors: float32 [A, 4] ycenter, xcenter, height, width.
      box_coder: ``edgetpu_detector.ssd.box_coder.BoxCoder``.

    Returns:
      float32 [min(B, max_images), S, S, 3] in [0, 1], for ``tf.summary.image``.
    """
    n = tf.minimum(tf.shape(images)[0], max_images)
    images, box_encodings, class_logits = images[:n], box_encodings[:n], class_logits[:n]
    box_targets, class_targets = box_targets[:n], class_targets[:n]
    # ground truth: the matched anchors' targets decode back to the boxes they were matched to
    gt = box_coder.decode(box_targets, anchors)
    gt = tf.where((class_targets > 0)[..., None], gt, tf.zeros_like(gt))
    scores = tf.reduce_max(tf.sigmoid(class_logits[..., 1:]), axis=-1)
    top_scores, top = tf.math.top_k(scores, k=max_boxes)
    predicted = tf.gather(box_coder.decode(box_encodings, anchors), top, batch_dims=1)
    predicted = tf.where((top_scores > score_threshold)[..., None], predicted, tf.zeros_like(predicted))
    canvas = tf.image.draw_bounding_boxes(images / 255.0, gt, _GREEN_RED[:1])
    return tf.image.draw_bounding_boxes(canvas, tf.clip_by_value(predicted, 0.0, 1.0), _GREEN_RED[1:])

"""Confusion matrix of a detector with a background row and column, and per-image error counts.

Matching (the convention of detection confusion matrices, e.g. in the Ultralytics and TF OD API tools):
detections with score >= ``score_threshold`` are taken by descending score; each is matched to the not yet
matched ground-truth box of any class with the highest IoU, if that IoU >= ``iou_threshold``. A matched pair
counts in ``[true class, predicted class]``; an unmatched ground-truth box is a missed object
``[true class, background]``; an unmatched detection a false alarm ``[background, predicted class]``.

Difficult ground truth (``gt_difficult``) is "don't care", as in ``edgetpu_detector.evaluation.coco_metrics``:
a detection is matched to a regular box first; only when none reaches ``iou_threshold`` may it fall on a
difficult box (any number of detections may), and then it counts nowhere; a difficult box left alone is not a
missed object.
"""
import numpy as np

from edgetpu_detector.ssd.box_ops import pairwise_iou


def match_image(gt_boxes, det_boxes, det_scores, score_threshold=0.5, iou_threshold=0.5, gt_difficult=None):
    """Greedy class-agnostic matching of one image.

    Args:
      gt_boxes: float [N, 4]; det_boxes: float [M, 4] (ymin, xmin, ymax, xmax normalized); det_scores: [M];
      gt_difficult: bool [N] "don't care" boxes (see the module docstring), or None.

    Returns:
      (pairs, unmatched_gt, unmatched_det): list of ``(gt index, det index)`` (regular boxes only), and lists
      of indices: regular boxes left unmatched, detections on no box (those on a difficult box are in none).
    """
    keep = [i for i in np.argsort(-np.asarray(det_scores), kind="stable") if det_scores[i] >= score_threshold]
    iou = pairwise_iou(gt_boxes, det_boxes).numpy()
    difficult = np.zeros(len(iou), bool) if gt_difficult is None else np.asarray(gt_difficult, bool).reshape(-1)
    free = ~difficult
    pairs, unmatched_det = [], []
    for d in keep:
        candidates = np.where(free, iou[:, d], -1.0) if len(iou) else np.zeros(0)
        g = int(np.argmax(candidates)) if len(candidates) else -1
        if g >= 0 and candidates[g] >= iou_threshold:
            free[g] = False
            pairs.append((g, d))
        elif not (difficult.any() and iou[difficult, d].max() >= iou_threshold):
            unmatched_det.append(d)
    return pairs, [int(g) for g in np.flatnonzero(free)], unmatched_det


def confusion_matrix(images, num_classes, score_threshold=0.5, iou_threshold=0.5):
    """Confusion matrix over a test split.

    Args:
      images: list of dicts with ``gt_boxes``, ``gt_classes``, ``det_boxes``, ``det_classes``,
        ``det_scores`` and optionally ``gt_difficult`` (see ``edgetpu_detector.evaluation.coco_metrics.coco_metrics``);
        classes are label-map ids.
      num_classes: int, largest label-map id.
      score_threshold, iou_threshold: floats in [0, 1].

    Returns:
      int64 [C + 1, C + 1]: rows the true class, columns the predicted class; index ``k`` (1..C) is label-map
      id ``k`` and index 0 is the background (row 0: false alarms, column 0: missed objects).
    """
    matrix = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    for image in images:
        gt_classes = np.asarray(image["gt_classes"]).reshape(-1)
        det_classes = np.asarray(image["det_classes"]).reshape(-1)
        pairs, missed, false_alarms = match_image(image["gt_boxes"], image["det_boxes"], image["det_scores"],
                                                  score_threshold, iou_threshold, image.get("gt_difficult"))
        for g, d in pairs:
            matrix[gt_classes[g], det_classes[d]] += 1
        for g in missed:
            matrix[gt_classes[g], 0] += 1
        for d in false_alarms:
            matrix[0, det_classes[d]] += 1
    return matrix


def image_errors(image, score_threshold=0.5, iou_threshold=0.5):
    """Errors in one image: missed objects + false alarms + matched boxes of the wrong class (int)."""
    gt_classes = np.asarray(image["gt_classes"]).reshape(-1)
    det_classes = np.asarray(image["det_classes"]).reshape(-1)
    pairs, missed, false_alarms = match_image(image["gt_boxes"], image["det_boxes"], image["det_scores"],
                                              score_threshold, iou_threshold, image.get("gt_difficult"))
    wrong = sum(gt_classes[g] != det_classes[d] for g, d in pairs)
    return len(missed) + len(false_alarms) + int(wrong)

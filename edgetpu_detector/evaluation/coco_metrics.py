"""COCO detection metrics through pycocotools.

Source: the COCO detection evaluation (cocodataset.org/#detection-eval), computed by ``pycocotools.cocoeval``:
mAP@[.5:.95] averages AP over IoU thresholds 0.50:0.05:0.95; AP50 and AP75 at one threshold; AR@100 is the
recall with at most 100 detections per image. Per-class AP is read from the evaluator's precision array for
that category alone.

Difficult ground truth (PASCAL VOC's ``difficult`` flag, ``gt_difficult``) is "don't care", as in the VOC
devkit (``VOCevaldet``) and COCO's crowd regions: it does not count in recall, and a detection matched to it
is neither a true nor a false positive. Exactly (``DifficultAwareCOCOeval``):

* a difficult box enters pycocotools as ``iscrowd=1``, so it is ignored and may absorb any number of
  detections (VOC never marks a difficult object as found, so every detection on it is ignored);
* but its IoU with a detection is the standard IoU, not pycocotools' crowd overlap (intersection over the
  detection's area): a detection must cover a difficult object as well as a regular one to be excused
  (VOC's rule); a small box inside a large difficult region stays a false positive;
* a detection that reaches the IoU threshold with both a regular and a difficult box of its class matches
  the regular one (pycocotools' order; VOC's devkit would take the one with the larger overlap).
"""
import contextlib
from dataclasses import dataclass, field
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# index in COCOeval.stats -> metric name
_STAT_NAMES = ("mAP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100",
               "AR_small", "AR_medium", "AR_large")


class DifficultAwareCOCOeval(COCOeval):
    """COCOeval whose crowd (here: difficult) boxes are matched by the standard IoU (see the module docstring)."""

    def computeIoU(self, imgId, catId):  # noqa: N802 - pycocotools' name
        """Standard IoU between detections and every ground-truth box, crowd or not."""
        p = self.params
        gts = self._gts[imgId, catId] if p.useCats else [g for c in p.catIds for g in self._gts[imgId, c]]
        flags = [g["iscrowd"] for g in gts]
        for g in gts:
            g["iscrowd"] = 0  # read by pycocotools' computeIoU only: crowd overlap off
        try:
            return super().computeIoU(imgId, catId)
        finally:
            for g, flag in zip(gts, flags):
                g["iscrowd"] = flag


def _to_xywh(boxes, height, width):
    """float [N, 4] ymin, xmin, ymax, xmax normalized -> float [N, 4] x, y, w, h in pixels."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    ymin, xmin, ymax, xmax = boxes.T
    return np.stack([xmin * width, ymin * height, (xmax - xmin) * width, (ymax - ymin) * height], axis=1)


@dataclass
class CocoEvaluation:
    """Everything one pycocotools evaluation yields.

    ``metrics``: as described in ``coco_metrics``. ``text``: pycocotools' printed summary.
    ``precision``: float [T, R, K] precision at IoU thresholds ``iou_thresholds`` (T = 10: 0.50:0.05:0.95),
    recall thresholds ``recall_thresholds`` (R = 101) and categories ``category_names`` (K), for all areas
    and 100 detections; -1 where undefined; None when nothing was evaluated.
    ``tp_scores`` / ``fp_scores``: float [n] scores of the detections that matched a ground-truth box at
    IoU 0.5 (true positives) or did not (false positives), COCO's matching, 100 detections per image
    (detections on difficult boxes are neither). ``num_difficult``: difficult ground-truth boxes.
    """

    metrics: dict
    text: str
    category_names: list
    precision: np.ndarray | None = None
    iou_thresholds: np.ndarray | None = None
    recall_thresholds: np.ndarray | None = None
    tp_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fp_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    num_difficult: int = 0


def coco_metrics(images, names_to_ids):
    """COCO metrics of detections against ground truth.

    Args:
      images: list of dicts, one per image, with ``height``, ``width`` (int pixels), ``gt_boxes`` float
        [N, 4] and ``det_boxes`` float [M, 4] (ymin, xmin, ymax, xmax normalized to [0, 1]),
        ``gt_classes`` int [N] and ``det_classes`` int [M] (label-map ids), ``det_scores`` float [M], and
        optionally ``gt_difficult`` bool [N] (difficult boxes are "don't care", see the module docstring).
      names_to_ids: dict class name -> label-map id (the categories).

    Returns:
      (metrics, text): ``metrics`` dict with ``mAP``, ``AP50``, ``AP75``, ``AP_small``, ``AP_medium``,
      ``AP_large``, ``AR1``, ``AR10``, ``AR100``, ``AR_small``, ``AR_medium``, ``AR_large`` and
      ``AP/<class name>`` (mAP@[.5:.95] of that class alone; -1 where a value is undefined, as pycocotools
      reports it), and ``text``, pycocotools' printed summary.
    """
    evaluation = coco_evaluation(images, names_to_ids)
    return evaluation.metrics, evaluation.text


def coco_evaluation(images, names_to_ids):
    """Run pycocotools' COCOeval on ``images`` (see ``coco_metrics``) and keep its arrays: CocoEvaluation."""
    categories = [{"id": int(i), "name": n} for n, i in sorted(names_to_ids.items(), key=lambda kv: kv[1])]
    names = [c["name"] for c in categories]
    gt = {"images": [], "annotations": [], "categories": categories}
    detections = []
    num_difficult = 0
    for image_id, image in enumerate(images, start=1):
        h, w = int(image["height"]), int(image["width"])
        gt["images"].append({"id": image_id, "height": h, "width": w})
        classes = np.asarray(image["gt_classes"]).reshape(-1)
        difficult = np.asarray(image.get("gt_difficult", np.zeros(len(classes), bool)), bool).reshape(-1)
        num_difficult += int(difficult.sum())
        for box, cls, flag in zip(_to_xywh(image["gt_boxes"], h, w), classes, difficult):
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": image_id,
                                      "category_id": int(cls), "bbox": [float(v) for v in box],
                                      "area": float(box[2] * box[3]), "iscrowd": int(flag)})
        det_boxes = _to_xywh(image["det_boxes"], h, w)
        for box, cls, score in zip(det_boxes, np.asarray(image["det_classes"]).reshape(-1),
                                   np.asarray(image["det_scores"]).reshape(-1)):
            detections.append({"image_id": image_id, "category_id": int(cls),
                               "bbox": [float(v) for v in box], "score": float(score)})
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        if not detections or not gt["annotations"]:
            print("no detections or no ground truth: every metric is 0")
            metrics = {name: 0.0 for name in _STAT_NAMES}
            metrics.update({f"AP/{name}": 0.0 for name in names})
            return CocoEvaluation(metrics=metrics, text=text.getvalue(), category_names=names,
                                  num_difficult=num_difficult)
        coco_dt = coco_gt.loadRes(detections)
        evaluator = DifficultAwareCOCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    metrics = {name: float(value) for name, value in zip(_STAT_NAMES, evaluator.stats)}
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # [T, R, K], all areas, 100 detections
    by_id = {c["id"]: c["name"] for c in categories}
    for k, category_id in enumerate(evaluator.params.catIds):
        values = precision[:, :, k]
        values = values[values > -1]
        metrics[f"AP/{by_id[category_id]}"] = float(values.mean()) if values.size else -1.0
    tp, fp = _scores_by_outcome(evaluator)
    return CocoEvaluation(metrics=metrics, text=text.getvalue(),
                          category_names=[by_id[i] for i in evaluator.params.catIds], precision=precision,
                          iou_thresholds=np.asarray(evaluator.params.iouThrs),
                          recall_thresholds=np.asarray(evaluator.params.recThrs), tp_scores=tp, fp_scores=fp,
                          num_difficult=num_difficult)


def _scores_by_outcome(evaluator):
    """Scores of true and false positives at IoU 0.5 (all areas, up to maxDets[-1] detections per image)."""
    all_areas = evaluator.params.areaRng[0]
    tp, fp = [], []
    for entry in evaluator.evalImgs:
        if entry is None or entry["aRng"] != all_areas:
            continue
        scores = np.asarray(entry["dtScores"])
        matched = np.asarray(entry["dtMatches"])[0] > 0  # IoU 0.5
        ignored = np.asarray(entry["dtIgnore"])[0].astype(bool)
        tp.append(scores[matched & ~ignored])
        fp.append(scores[~matched & ~ignored])
    return (np.concatenate(tp) if tp else np.zeros(0)), (np.concatenate(fp) if fp else np.zeros(0))

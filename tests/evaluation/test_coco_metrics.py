"""COCO metrics on hand-built cases, and agreement with a direct pycocotools call on real data."""
import numpy as np
import pytest

from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.evaluation.coco_metrics import coco_metrics

NAMES = {"cat": 1, "dog": 2}


def _image(gt_boxes, gt_classes, det_boxes, det_classes, det_scores, size=100):
    return {"height": size, "width": size, "gt_boxes": np.array(gt_boxes, float).reshape(-1, 4),
            "gt_classes": np.array(gt_classes), "det_boxes": np.array(det_boxes, float).reshape(-1, 4),
            "det_classes": np.array(det_classes), "det_scores": np.array(det_scores, float)}


def test_perfect_predictor_scores_one():
    boxes = [[0.1, 0.1, 0.5, 0.5], [0.5, 0.5, 0.9, 0.8]]
    metrics, text = coco_metrics([_image(boxes, [1, 2], boxes, [1, 2], [0.9, 0.8])], NAMES)
    assert metrics["mAP"] == pytest.approx(1.0)
    assert metrics["AP50"] == pytest.approx(1.0)
    assert metrics["AP/cat"] == pytest.approx(1.0) and metrics["AP/dog"] == pytest.approx(1.0)
    assert "Average Precision" in text


def test_iou_0_6_counts_at_0_5_not_at_0_75():
    gt = [[0.0, 0.0, 0.5, 0.5]]
    det = [[0.0, 0.0, 0.5, 0.3]]  # IoU 0.6
    metrics, _ = coco_metrics([_image(gt, [1], det, [1], [0.9])], {"cat": 1})
    assert metrics["AP50"] == pytest.approx(1.0)
    assert metrics["AP75"] == pytest.approx(0.0)


def test_missed_class_lowers_only_its_own_ap():
    boxes = [[0.1, 0.1, 0.5, 0.5], [0.5, 0.5, 0.9, 0.8]]
    metrics, _ = coco_metrics([_image(boxes, [1, 2], boxes[:1], [1], [0.9])], NAMES)
    assert metrics["AP/cat"] == pytest.approx(1.0)
    assert metrics["AP/dog"] == pytest.approx(0.0)
    assert metrics["mAP"] == pytest.approx(0.5)


def test_duplicate_detection_is_a_false_positive():
    gt = [[0.1, 0.1, 0.5, 0.5]]
    # The duplicate scores higher than the true match would need; AP drops below 1 only if it ranks first.
    metrics, _ = coco_metrics([_image(gt + [[0.6, 0.6, 0.9, 0.9]], [1, 1], gt * 2, [1, 1], [0.9, 0.95])],
                              {"cat": 1})
    assert metrics["AP50"] < 1.0


def test_agrees_with_pycocotools_on_real_annotations(shared_dir, tmp_path):
    """Noisy detections on fruit_nuts' test annotations: our wrapper equals a direct COCOeval call."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    names = {"date": 1, "fig": 2, "hazelnut": 3}
    rng = np.random.default_rng(0)
    images, gt_json, dt_json = [], {"images": [], "annotations": [], "categories": [
        {"id": i, "name": n} for n, i in names.items()]}, []
    for image_id, xml in enumerate(sorted((shared_dir / "datasets/fruit_nuts/data/images/test").glob("*.xml")), 1):
        ann = parse_voc_xml(xml)
        w, h = ann.width, ann.height
        gt = np.array([[o.ymin / h, o.xmin / w, o.ymax / h, o.xmax / w] for o in ann.objects])
        cls = np.array([names[o.name] for o in ann.objects])
        det = np.clip(gt + rng.normal(0, 0.02, gt.shape), 0, 1)
        det_cls = np.where(rng.uniform(size=len(cls)) < 0.2, rng.integers(1, 4, len(cls)), cls)
        scores = rng.uniform(0.1, 1.0, len(cls))
        images.append(_image(gt, cls, det, det_cls, scores, size=0) | {"height": h, "width": w})
        gt_json["images"].append({"id": image_id, "height": h, "width": w})
        for b, c in zip(gt, cls):
            gt_json["annotations"].append({"id": len(gt_json["annotations"]) + 1, "image_id": image_id,
                                           "category_id": int(c), "iscrowd": 0,
                                           "bbox": [b[1] * w, b[0] * h, (b[3] - b[1]) * w, (b[2] - b[0]) * h],
                                           "area": (b[3] - b[1]) * w * (b[2] - b[0]) * h})
        for b, c, s in zip(det, det_cls, scores):
            dt_json.append({"image_id": image_id, "category_id": int(c), "score": float(s),
                            "bbox": [b[1] * w, b[0] * h, (b[3] - b[1]) * w, (b[2] - b[0]) * h]})
    ours, _ = coco_metrics(images, names)
    coco = COCO()
    coco.dataset = gt_json
    coco.createIndex()
    evaluator = COCOeval(coco, coco.loadRes(dt_json), "bbox")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert 0.0 < ours["mAP"] < 1.0
    assert ours["mAP"] == pytest.approx(evaluator.stats[0], abs=1e-9)
    assert ours["AP50"] == pytest.approx(evaluator.stats[1], abs=1e-9)
    assert ours["AR100"] == pytest.approx(evaluator.stats[8], abs=1e-9)


REGULAR, DIFFICULT = [0.1, 0.1, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9]


@pytest.mark.parametrize("flagged, ap50", [(True, 1.0), (False, (51 + 50 * 2 / 3) / 101)])
def test_detections_on_a_difficult_box_are_neither_true_nor_false_positives(flagged, ap50):
    """Two detections on the difficult box outrank the one on the regular box. Difficult: both are ignored (any
    number may fall on it, as in the VOC devkit), the regular box is found first: AP 1. Not flagged: true
    positive, duplicate (false positive), true positive: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; COCO's
    101-point interpolated AP = (51 x 1 + 50 x 2/3) / 101."""
    image = _image([REGULAR, DIFFICULT], [1, 1], [DIFFICULT, DIFFICULT, REGULAR], [1, 1, 1], [0.9, 0.8, 0.7])
    image["gt_difficult"] = np.array([False, flagged])
    from edgetpu_detector.evaluation.coco_metrics import coco_evaluation

    evaluation = coco_evaluation([image], {"cat": 1})
    assert evaluation.metrics["AP50"] == pytest.approx(ap50, abs=1e-9)
    assert evaluation.metrics["mAP"] == pytest.approx(ap50, abs=1e-9)  # exact boxes: every IoU threshold alike
    assert evaluation.num_difficult == int(flagged)
    assert sorted(evaluation.tp_scores) == ([0.7] if flagged else pytest.approx([0.7, 0.9]))
    assert len(evaluation.fp_scores) == (0 if flagged else 1)


def test_a_difficult_box_is_matched_by_the_standard_iou_not_the_crowd_overlap():
    """A small detection inside the difficult box: IoU 0.04 / 0.16 = 0.25 (pycocotools' crowd overlap,
    intersection over the detection's area, would be 1 and excuse it). It stays a false positive ahead of the
    true positive: precision 1/2 at recall 1, AP50 = 0.5."""
    small = [0.6, 0.6, 0.8, 0.8]
    image = _image([REGULAR, DIFFICULT], [1, 1], [small, REGULAR], [1, 1], [0.95, 0.7])
    image["gt_difficult"] = np.array([False, True])
    metrics, _ = coco_metrics([image], {"cat": 1})
    assert metrics["AP50"] == pytest.approx(0.5, abs=1e-9)

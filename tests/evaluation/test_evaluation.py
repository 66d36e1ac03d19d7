"""Evaluation helpers on hand-built cases: confusion matrix with background, error ranking, the quantization
cost, form names, and the charts (end-to-end evaluation of every form runs in test_pipeline_e2e.py)."""
import numpy as np
from PIL import Image
import pytest

from edgetpu_detector.evaluation.coco_metrics import coco_evaluation
from edgetpu_detector.evaluation.confusion import confusion_matrix, image_errors
from edgetpu_detector.evaluation.result import form_gaps
from edgetpu_detector.evaluation.forms import FORMS, parse_forms
from edgetpu_detector.evaluation.plots import plot_confusion_matrix, plot_pr_curves, plot_score_histogram

CAT, DOG = 1, 2
A, B, C, D = [0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.7, 0.7], [0.3, 0.0, 0.5, 0.2], [0.8, 0.8, 1.0, 1.0]


def _image(gt, gt_cls, det, det_cls, scores):
    return {"height": 100, "width": 100, "gt_boxes": np.array(gt, float).reshape(-1, 4),
            "gt_classes": np.array(gt_cls), "det_boxes": np.array(det, float).reshape(-1, 4),
            "det_classes": np.array(det_cls), "det_scores": np.array(scores, float)}


MIXED = _image([A, B, D], [CAT, DOG, CAT],      # cat at A, dog at B, cat at D
               [A, B, C, D], [CAT, CAT, DOG, DOG], [0.9, 0.8, 0.7, 0.1])  # D's detection is below 0.5


def test_confusion_matrix_counts_misses_false_alarms_and_confusions():
    matrix = confusion_matrix([MIXED], num_classes=2, score_threshold=0.5)
    expected = np.zeros((3, 3), int)
    expected[CAT, CAT] = 1   # A found as cat
    expected[DOG, CAT] = 1   # B found, wrong class
    expected[0, DOG] = 1     # C: a false alarm
    expected[CAT, 0] = 1     # D: missed (its detection scores under the threshold)
    np.testing.assert_array_equal(matrix, expected)
    assert image_errors(MIXED, 0.5) == 3
    # A lower threshold takes D's detection: a cat found as dog instead of a miss.
    assert confusion_matrix([MIXED], 2, score_threshold=0.05)[CAT, DOG] == 1


def test_each_detection_matches_one_ground_truth_box():
    duplicate = _image([A], [CAT], [A, A], [CAT, CAT], [0.9, 0.8])
    matrix = confusion_matrix([duplicate], num_classes=2)
    assert matrix[CAT, CAT] == 1 and matrix[0, CAT] == 1
    perfect = _image([A, B], [CAT, DOG], [A, B], [CAT, DOG], [0.9, 0.9])
    assert image_errors(perfect) == 0 < image_errors(duplicate)


def test_gaps_between_forms_in_ap_points():
    metrics = {"int8_tflite": {"mAP": 0.45, "AP50": 0.78}, "float_tflite": {"mAP": 0.48, "AP50": 0.79},
               "keras": {"mAP": 0.50, "AP50": 0.80}}
    gaps = form_gaps(metrics)
    assert gaps["int8_ap_drop"] == pytest.approx(3.0) and gaps["int8_ap50_drop"] == pytest.approx(1.0)
    assert gaps["keras_gap"] == pytest.approx(5.0) and gaps["keras_ap50_gap"] == pytest.approx(2.0)
    assert form_gaps({"keras": metrics["keras"], "int8_tflite": metrics["int8_tflite"]}) == {
        "keras_gap": pytest.approx(5.0), "keras_ap50_gap": pytest.approx(2.0)}
    assert form_gaps({"keras": metrics["keras"]}) == {}


def test_form_names():
    assert parse_forms("all") == FORMS
    assert parse_forms("keras, int8_tflite") == ("int8_tflite", "keras")  # the deployed model first
    with pytest.raises(ValueError, match="onnx"):
        parse_forms("keras,onnx")


def test_charts_are_written(tmp_path):
    evaluation = coco_evaluation([MIXED], {"cat": CAT, "dog": DOG})
    assert len(evaluation.tp_scores) + len(evaluation.fp_scores) == 4
    assert sorted(evaluation.tp_scores) == [0.9]  # COCO matching is per class: only A is a true positive
    assert evaluation.precision.shape == (10, 101, 2)
    paths = [plot_pr_curves(evaluation, tmp_path / "pr.png"),
             plot_confusion_matrix(confusion_matrix([MIXED], 2), ["cat", "dog"], tmp_path / "cm.png", 0.5, 0.5),
             plot_score_histogram(evaluation.tp_scores, evaluation.fp_scores, tmp_path / "scores.png")]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300


def test_charts_become_tensorboard_images(tmp_path):
    import tensorflow as tf

    from edgetpu_detector.evaluation.tensorboard import write_image_summaries

    chart = plot_score_histogram(np.array([0.9]), np.array([0.2, 0.4]), tmp_path / "score_histogram.png")
    logdir = write_image_summaries([chart], tmp_path / "tb", step=7)
    (event_file,) = logdir.iterdir()
    tags = [(value.tag, event.step) for event in tf.compat.v1.train.summary_iterator(str(event_file))
            for value in event.summary.value]
    assert tags == [("eval/score_histogram", 7)]


def test_difficult_boxes_are_neither_missed_nor_matched_in_the_confusion_matrix():
    """Cat at A (regular, missed) and at B (difficult, hit twice): one miss, no false alarm, no match."""
    image = _image([A, B], [CAT, CAT], [B, B, D], [CAT, DOG, CAT], [0.9, 0.8, 0.7])
    image["gt_difficult"] = np.array([False, True])
    matrix = confusion_matrix([image], num_classes=2, score_threshold=0.5)
    expected = np.zeros((3, 3), int)
    expected[CAT, 0] = 1    # A missed
    expected[0, CAT] = 1    # the detection at D is a false alarm; the two on B count nowhere
    np.testing.assert_array_equal(matrix, expected)
    assert image_errors(image, 0.5) == 2
    del image["gt_difficult"]
    assert confusion_matrix([image], 2, score_threshold=0.5)[CAT, CAT] == 1 and image_errors(image, 0.5) == 3  # A missed, 2 false alarms

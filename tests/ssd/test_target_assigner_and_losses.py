"""SSD matching and losses on hand-built cases."""
import edgetpu_detector.core.env  # noqa: F401

import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.ssd.box_coder import BoxCoder
from edgetpu_detector.ssd.box_ops import center_to_corners, pairwise_iou
from edgetpu_detector.ssd.losses import sigmoid_focal_loss, smooth_l1, ssd_loss
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.target_assigner import IGNORE, assign_targets

ANCHORS = DetectorConfig(image_size=300).generate_anchors()


def test_pairwise_iou():
    a = tf.constant([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5]])
    b = tf.constant([[0.0, 0.0, 0.5, 1.0], [2.0, 2.0, 3.0, 3.0]])
    np.testing.assert_allclose(pairwise_iou(a, b).numpy(), [[0.5, 0.0], [0.5, 0.0]], atol=1e-6)


def test_box_on_an_anchor_matches_it_with_zero_encoding():
    coder = BoxCoder()
    index = 1000
    gt = center_to_corners(ANCHORS[index:index + 1])
    box_targets, class_targets = assign_targets(gt, [2], ANCHORS, coder)
    assert class_targets.shape == (len(ANCHORS),)
    assert int(class_targets[index]) == 2
    np.testing.assert_allclose(box_targets[index].numpy(), 0.0, atol=1e-5)
    # Every positive anchor overlaps the box by IoU >= 0.5.
    iou = pairwise_iou(tf.constant(gt, tf.float32), tf.constant(center_to_corners(ANCHORS)))[0].numpy()
    assert np.all(iou[class_targets.numpy() == 2] >= 0.5)
    assert np.all(class_targets.numpy()[iou < 0.5] == 0)


def test_negative_image_is_all_background():
    box_targets, class_targets = assign_targets(np.zeros((0, 4), np.float32), np.zeros((0,), np.int32),
                                                ANCHORS, BoxCoder())
    assert not np.any(class_targets.numpy())
    assert not np.any(box_targets.numpy())


def test_tiny_box_is_force_matched_to_its_best_anchor():
    gt = np.array([[0.50, 0.50, 0.52, 0.51]], np.float32)  # IoU with every anchor far below 0.5
    _, class_targets = assign_targets(gt, [1], ANCHORS, BoxCoder())
    assert int(np.sum(class_targets.numpy() == 1)) == 1


def test_anchors_between_thresholds_are_ignored():
    gt = center_to_corners(ANCHORS[500:501])
    _, strict = assign_targets(gt, [1], ANCHORS, BoxCoder(), matched_threshold=0.5, unmatched_threshold=0.5)
    _, lenient = assign_targets(gt, [1], ANCHORS, BoxCoder(), matched_threshold=0.5, unmatched_threshold=0.3)
    assert not np.any(strict.numpy() == IGNORE)
    assert np.any(lenient.numpy() == IGNORE)
    assert np.array_equal(strict.numpy() == 1, lenient.numpy() == 1)


def test_focal_loss_matches_the_formula():
    logits = tf.constant([[[2.0, -1.0]]])
    targets = tf.constant([[[1.0, 0.0]]])
    p = 1 / (1 + np.exp(-np.array([2.0, -1.0])))
    expected = 0.25 * (1 - p[0]) ** 2 * -np.log(p[0]) + 0.75 * p[1] ** 2 * -np.log(1 - p[1])
    assert float(sigmoid_focal_loss(logits, targets)[0, 0]) == pytest.approx(expected, rel=1e-5)


def test_smooth_l1_is_quadratic_then_linear():
    out = smooth_l1(tf.constant([[[0.5, 2.0, 0.0, 0.0]]]), tf.zeros([1, 1, 4])).numpy()
    assert out[0, 0] == pytest.approx(0.125 + 1.5)


def test_ssd_loss_is_normalized_by_positives_and_ignores_background_column():
    box_targets = tf.zeros([1, 4, 4])
    class_targets = tf.constant([[1, 0, 0, IGNORE]])
    good = tf.constant([[[-9.0, 9.0], [9.0, -9.0], [0.0, -9.0], [0.0, 9.0]]])
    bad = tf.constant([[[9.0, -9.0], [-9.0, 9.0], [0.0, 9.0], [0.0, 9.0]]])
    good_loss = ssd_loss(tf.zeros([1, 4, 4]), good, box_targets, class_targets)
    bad_loss = ssd_loss(tf.zeros([1, 4, 4]), bad, box_targets, class_targets)
    assert float(good_loss["num_positives"]) == 1.0
    assert float(good_loss["classification_loss"]) < 1e-3
    assert float(bad_loss["classification_loss"]) > 5.0
    assert float(good_loss["localization_loss"]) == 0.0

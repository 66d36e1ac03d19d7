"""Anchor grid and box coder against the TF Object Detection API's SSD-MobileNet layout."""
import edgetpu_detector.core.env  # noqa: F401

import math

import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.ssd.anchors import box_specs_per_layer, generate_anchors, num_anchors_per_location
from edgetpu_detector.ssd.box_coder import BoxCoder
from edgetpu_detector.ssd.box_ops import center_to_corners
from edgetpu_detector.ssd.models.ssd import DetectorConfig

GRID_300 = [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


def test_300x300_grid_has_the_model_zoo_anchor_count():
    # 19*19*3 + (10*10 + 5*5 + 3*3 + 2*2 + 1) * 6 = 1917, the anchor count of every 300x300 SSD-MobileNet.
    assert num_anchors_per_location(6) == [3, 6, 6, 6, 6, 6]
    assert generate_anchors(GRID_300).shape == (1917, 4)
    assert DetectorConfig(image_size=300).feature_map_sizes == GRID_300


def test_scales_follow_ssd_linear_rule_with_interpolated_last_anchor():
    specs = box_specs_per_layer(6)
    assert specs[0] == [(0.1, 1.0), (0.2, 2.0), (0.2, 0.5)]
    assert [s for s, _ in specs[1][:5]] == pytest.approx([0.35] * 5)
    assert specs[1][5] == pytest.approx((math.sqrt(0.35 * 0.5), 1.0))
    assert specs[5][0][0] == pytest.approx(0.95)
    assert specs[5][5] == pytest.approx((math.sqrt(0.95 * 1.0), 1.0))


def test_anchor_order_is_grid_y_grid_x_anchor():
    anchors = generate_anchors(GRID_300)
    # First location of the first layer: centre (0.5/19, 0.5/19), then its three boxes.
    np.testing.assert_allclose(anchors[0], [0.5 / 19, 0.5 / 19, 0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(anchors[1], [0.5 / 19, 0.5 / 19, 0.2 / math.sqrt(2), 0.2 * math.sqrt(2)], rtol=1e-6)
    # Fourth anchor is the second location along x.
    np.testing.assert_allclose(anchors[3][:2], [0.5 / 19, 1.5 / 19], rtol=1e-6)
    # The last anchor: the 1x1 layer's interpolated square box centred in the image.
    np.testing.assert_allclose(anchors[-1], [0.5, 0.5, math.sqrt(0.95), math.sqrt(0.95)], rtol=1e-6)


def test_box_coder_round_trip_and_identity():
    coder = BoxCoder()
    anchors = tf.constant(generate_anchors(GRID_300)[:50])
    corners = tf.constant(center_to_corners(anchors.numpy()), tf.float32)
    np.testing.assert_allclose(coder.encode(corners, anchors).numpy(), 0.0, atol=1e-5)
    rng = np.random.default_rng(0)
    ymin, xmin = rng.uniform(0, 0.5, (2, 50))
    boxes = np.stack([ymin, xmin, ymin + rng.uniform(0.05, 0.5, 50), xmin + rng.uniform(0.05, 0.5, 50)], 1)
    boxes = tf.constant(boxes, tf.float32)
    np.testing.assert_allclose(coder.decode(coder.encode(boxes, anchors), anchors).numpy(), boxes.numpy(),
                               atol=1e-5)


def test_box_coder_scales_10_10_5_5():
    coder = BoxCoder()
    anchor = tf.constant([[0.5, 0.5, 0.2, 0.4]])
    # Box shifted by a tenth of the anchor height and twice as wide.
    box = tf.constant([[0.42, 0.1, 0.62, 0.9]])
    ty, tx, th, tw = coder.encode(box, anchor).numpy()[0]
    assert ty == pytest.approx(10 * 0.02 / 0.2, abs=1e-5)
    assert tx == pytest.approx(0.0, abs=1e-5)
    assert th == pytest.approx(0.0, abs=1e-5)
    assert tw == pytest.approx(5 * math.log(2.0), abs=1e-5)

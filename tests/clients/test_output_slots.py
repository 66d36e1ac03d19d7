"""Every output slot of the deployed models is a real detection: pycoral, DOODS2 and other clients read all
``max_detections`` slots, not only the first ``count`` (see edgetpu_detector/export/postprocess_op.py)."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import numpy as np
import pytest

from edgetpu_detector.export.tflite_converter import convert_int8_tflite
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.postprocess import NMSConfig
from tests.detector_helpers import random_detector, synthetic_images


def _check_every_slot(outputs, slots, num_classes):
    assert outputs["count"] == slots
    boxes, classes, scores = outputs["boxes"], outputs["classes"], outputs["scores"]
    assert boxes.shape == (slots, 4) and np.all(np.isfinite(boxes)) and np.all(np.abs(boxes) < 10)
    assert np.all((boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1]))
    assert np.all((scores >= 0) & (scores <= 1)) and np.all(np.diff(scores) <= 0)
    assert np.all(classes == np.round(classes)) and np.all((classes >= 0) & (classes < num_classes))


@pytest.mark.parametrize("model", ["int8_tflite_path", "float_tflite_path"])
@pytest.mark.parametrize("default_delegates", [True, False], ids=["xnnpack", "builtin"])
def test_deployed_models_fill_every_slot(exported, model, default_delegates):
    detector = TFLiteDetector(getattr(exported["result"], model), default_delegates=default_delegates)
    for image in exported["images"]:  # real photos, noise, black, white
        _check_every_slot(detector.outputs(image), exported["slots"], len(exported["labels"]))


def test_fast_nms_fills_every_slot_too(tmp_path):
    """The op's fast NMS never writes rows past ``count``: with threshold 0 there is no such row, even on an
    image where a confident model sees nothing (a random model's scores on flat images)."""
    model, config = random_detector(64, 3)
    nms = NMSConfig(max_detections=12, use_regular_nms=False)
    path = convert_int8_tflite(model, config, synthetic_images(2, 64, 64, seed=1), tmp_path / "m.tflite", nms)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), np.zeros((64, 64, 3), np.uint8),
              np.full((64, 64, 3), 255, np.uint8), *synthetic_images(2, 64, 64, seed=5)]
    for default_delegates in (True, False):
        detector = TFLiteDetector(path, default_delegates=default_delegates)
        for image in images:
            _check_every_slot(detector.outputs(image), 12, 3)

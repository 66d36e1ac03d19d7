"""Fixtures of the client-conformance tests: the exported detector's files, and real photos (plus noise, black
and white) at the model's input size, so that every client sees exactly the pixels our runner sees."""
import numpy as np
from PIL import Image
import pytest

from edgetpu_detector.images.arrays import resize_image
from edgetpu_detector.tflite.info import tflite_io


@pytest.fixture(scope="module")
def exported(exported_detector):
    result = exported_detector["result"]
    inputs, _ = tflite_io(result.int8_tflite_path)
    size = inputs[0]["shape"][1]
    photos = [resize_image(np.asarray(Image.open(p).convert("RGB")), size, size) for p in exported_detector["photos"]]
    rng = np.random.default_rng(0)
    others = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8), np.zeros((size, size, 3), np.uint8),
              np.full((size, size, 3), 255, np.uint8)]
    labels = result.labels_path.read_text().splitlines()
    return {"result": result, "size": size, "photos": photos, "images": photos + others, "labels": labels,
            "slots": result.deployment.nms.max_detections}

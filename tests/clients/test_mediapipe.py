"""MediaPipe's ObjectDetector (PyPI ``mediapipe``, requirements-test.txt) loads our int8 and float models with
their TFLite Model Metadata and returns our runner's detections, on the same pixels."""
import edgetpu_detector.core.env  # noqa: F401

import pytest

from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.tflite.metadata.model_metadata import metadata_buffer

vision = pytest.importorskip("mediapipe.tasks.python.vision")
mediapipe = pytest.importorskip("mediapipe")
BaseOptions = pytest.importorskip("mediapipe.tasks.python.core.base_options").BaseOptions

THRESHOLD = 0.3


def _mediapipe_detector(path):
    options = vision.ObjectDetectorOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                           score_threshold=THRESHOLD)
    return vision.ObjectDetector.create_from_options(options)


def _by_box(detections):
    """Our detections grouped as MediaPipe reports them: one detection per distinct box (MediaPipe merges
    detections with the same box -- per-class NMS gives one per class -- into one with several categories),
    in order of their best score; each ``(box, [(label-map id, score), ...])``."""
    groups = {}
    for box, label_id, score in zip(detections.boxes, detections.classes, detections.scores):
        groups.setdefault(tuple(box.tolist()), []).append((int(label_id), float(score)))
    return list(groups.items())


@pytest.mark.parametrize("model", ["int8_tflite_path", "float_tflite_path"])
def test_object_detector_returns_our_detections(exported, model):
    path = getattr(exported["result"], model)
    ours = TFLiteDetector(path)
    size = exported["size"]
    found = 0
    with _mediapipe_detector(path) as detector:
        for image in exported["images"]:
            # An image of the input size: MediaPipe stretches other sizes itself, without anti-aliasing.
            result = detector.detect(mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=image))
            expected = _by_box(ours.detect(image, clip_boxes=False).above(THRESHOLD))
            assert len(result.detections) == len(expected)
            for detection, (box, classes) in zip(result.detections, expected):
                got = [(c.category_name, c.score) for c in detection.categories]
                assert [name for name, _ in got] == [exported["labels"][label_id - 1] for label_id, _ in classes]
                assert [s for _, s in got] == pytest.approx([s for _, s in classes], abs=1e-5)
                ymin, xmin, ymax, xmax = (v * size for v in box)
                if min(ymin, xmin) >= 0:  # MediaPipe shifts boxes that cross the top or left edge
                    bbox = detection.bounding_box  # integer pixels, origin and size truncated separately
                    assert abs(bbox.origin_x - xmin) <= 1 and abs(bbox.origin_y - ymin) <= 1
                    assert abs(bbox.origin_x + bbox.width - xmax) <= 2 and abs(bbox.origin_y + bbox.height - ymax) <= 2
            found += len(expected)
    assert found > 0  # the detector does detect fruit on its test photos


def test_without_metadata_mediapipe_refuses_the_model(exported, tmp_path):
    from edgetpu_detector.tflite.flatbuffer import read_model, write_model

    model = read_model(exported["result"].int8_tflite_path.read_bytes())
    model.metadata = [m for m in model.metadata if m.name != b"TFLITE_METADATA"]
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(write_model(model))
    assert metadata_buffer(bare.read_bytes()) is None
    with pytest.raises(ValueError, match="require TFLite Model Metadata"):
        _mediapipe_detector(bare)

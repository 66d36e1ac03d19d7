"""One Detector interface over every model form, one class-id rule, one image decoder."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import io

import numpy as np
from PIL import Image
import pytest

from edgetpu_detector.core.class_ids import class_index, label_map_id
from edgetpu_detector.export.saved_model import export_saved_model
from edgetpu_detector.export.tflite_converter import convert_float_tflite
from edgetpu_detector.images.decode import ImageTooLarge, decode_image
from edgetpu_detector.inference.detections import Detections
from edgetpu_detector.inference.keras_detector import KerasDetector
from edgetpu_detector.inference.load import load_detector
from edgetpu_detector.inference.media import iter_frames
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.mlflow_models.tflite_pyfunc import _decode_row
from edgetpu_detector.ssd.postprocess import NMSConfig
from tests.detector_helpers import random_detector, synthetic_images

SIZE = 64
NMS = NMSConfig(max_detections=8, max_detections_per_class=8)


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    model, config = random_detector(SIZE, 2)
    root = tmp_path_factory.mktemp("forms")
    return {"model": model, "config": config,
            "tflite": convert_float_tflite(model, config, root / "model_float.tflite", NMS),
            "saved_model": export_saved_model(model, config, root / "saved_model", NMS), "root": root}


def test_class_ids_round_trip():
    assert label_map_id(0) == 1 and class_index(1) == 0
    np.testing.assert_array_equal(label_map_id(np.arange(3)), [1, 2, 3])


def test_detections_filter_and_shapes():
    d = Detections([[0, 0, 1, 1], [0, 0, .5, .5], [.1, .1, .2, .2]], [1, 2, 1], [0.9, 0.5, 0.2])
    assert len(d.above(0.5)) == 2 and len(d.above(0.0, max_detections=1)) == 1
    assert d.above(0.95).boxes.shape == (0, 4) and d.classes.dtype == np.int32
    with pytest.raises(ValueError, match="differ in length"):
        Detections(np.zeros((2, 4)), [1], [0.5, 0.4])


def test_every_form_returns_label_map_ids_and_the_same_detections(forms):
    image = synthetic_images(1, SIZE, SIZE, seed=3)[0]
    keras = KerasDetector(forms["model"], forms["config"], NMS).detect(image)
    saved = load_detector(forms["saved_model"]).detect(image)
    tflite = load_detector(forms["tflite"]).detect(image)
    for other in (saved, tflite):
        assert len(other) == len(keras) == NMS.max_detections
        assert set(other.classes) <= {1, 2} and other.classes.tolist()[:3] == keras.classes.tolist()[:3]
        np.testing.assert_allclose(other.scores[:3], keras.scores[:3], atol=1e-4)
        np.testing.assert_allclose(other.boxes[:3], keras.boxes[:3], atol=1e-3)


def test_tflite_outputs_keep_the_models_own_class_indices(forms):
    detector = TFLiteDetector(forms["tflite"])
    image = synthetic_images(1, SIZE, SIZE, seed=4)[0]
    raw, detections = detector.outputs(image), detector.detect(image)
    assert raw["boxes"].shape == (NMS.max_detections, 4) and raw["count"] == len(detections)
    np.testing.assert_array_equal(label_map_id(raw["classes"][:raw["count"]].astype(int)), detections.classes)


def test_loading_errors_name_the_problem(forms, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model at"):
        load_detector(tmp_path / "missing.tflite")
    (tmp_path / "weights.h5").write_bytes(b"x")
    with pytest.raises(ValueError, match="expected a SavedModel folder or a .tflite file"):
        load_detector(tmp_path / "weights.h5")
    with pytest.raises(ValueError, match="device must be one of"):
        load_detector(forms["tflite"], device="gpu")


# No half-built ai_edge_litert Delegate left behind (its __del__ raised) when libedgetpu.so.1 is absent.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_edgetpu_device_without_runtime_runs_on_the_cpu_and_says_so(forms):
    # Coral's runtime cannot be installed here: the test relies on its absence (checked by the detector).
    detector = TFLiteDetector(forms["tflite"], device="edgetpu")
    assert detector.kind == "tflite_cpu"
    assert detector.notice == ("Edge TPU runtime (libedgetpu.so.1) not found or no Edge TPU attached: running "
                               "model_float.tflite on the CPU")


def test_one_decoder_and_one_pixel_limit_for_files_frames_and_requests(tmp_path):
    pixels = synthetic_images(1, 40, 50, seed=5)[0]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    (tmp_path / "a.png").write_bytes(buffer.getvalue())
    (frame,) = iter_frames(tmp_path / "a.png")
    np.testing.assert_array_equal(frame.image, pixels)
    np.testing.assert_array_equal(_decode_row(buffer.getvalue(), "row 0"), pixels)
    np.testing.assert_array_equal(decode_image(buffer.getvalue()), pixels)
    # Above the limit, every consumer refuses it before decoding, naming where it came from.
    with pytest.raises(ImageTooLarge, match="a.png"):
        next(iter_frames(tmp_path / "a.png", max_pixels=1000))
    with pytest.raises(ImageTooLarge, match="row 3"):
        _decode_row(buffer.getvalue(), "row 3", max_pixels=1000)

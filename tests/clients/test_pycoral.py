"""Coral's own pycoral detection adapter (``../shared/clients/pycoral``, run from there: Apache-2.0, never copied)
reads our int8 model exactly as our runner does, through both of its branches."""
import edgetpu_detector.core.env  # noqa: F401

import sys

from ai_edge_litert.interpreter import Interpreter
from PIL import Image
import pytest

from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.tflite.flatbuffer import read_model, write_model


@pytest.fixture(scope="module")
def pycoral(shared_dir):
    sys.path.insert(0, str(shared_dir / "clients" / "pycoral"))
    try:
        from pycoral.adapters import common, detect
        from pycoral.utils.dataset import read_label_file
        yield common, detect, read_label_file
    finally:
        sys.path.remove(str(shared_dir / "clients" / "pycoral"))


def _without_signature(path, tmp_path):
    """The same model saved without its SignatureDef: pycoral then reads the outputs by position."""
    model = read_model(path.read_bytes())
    model.signatureDefs = []
    out = tmp_path / "no_signature.tflite"
    out.write_bytes(write_model(model))
    return out


def _pycoral_objects(pycoral, model_path, photo, threshold):
    common, detect, _ = pycoral
    interpreter = Interpreter(str(model_path))
    interpreter.allocate_tensors()
    image = Image.fromarray(photo)
    _, scale = common.set_resized_input(interpreter, image.size, lambda size: image.resize(size, Image.BILINEAR))
    interpreter.invoke()
    tensor = common.input_tensor(interpreter).copy()
    return detect.get_objects(interpreter, threshold, scale), tensor, scale


def test_labels_file_reads_as_our_class_indices(exported, pycoral):
    _, _, read_label_file = pycoral
    assert read_label_file(str(exported["result"].labels_path)) == dict(enumerate(exported["labels"]))


@pytest.mark.parametrize("signature", [True, False], ids=["signature", "positional"])
@pytest.mark.parametrize("threshold", [-float("inf"), 0.3])
def test_get_objects_sees_exactly_our_detections(exported, pycoral, signature, threshold, tmp_path):
    model = exported["result"].int8_tflite_path
    if not signature:
        model = _without_signature(model, tmp_path)
    ours = TFLiteDetector(model)
    height = width = exported["size"]
    for photo in exported["images"]:
        # A letterboxed copy (pycoral's set_resized_input) of a non-square crop, as a camera app feeds it.
        crop = photo[: height * 3 // 4]
        objects, tensor, (sx, sy) = _pycoral_objects(pycoral, model, crop, threshold)
        out = ours.outputs(tensor)  # the letterboxed [S, S, 3] input pycoral wrote
        keep = [i for i in range(exported["slots"]) if out["scores"][i] >= threshold]
        assert len(objects) == len(keep) and (threshold > 0 or len(objects) == exported["slots"])
        for obj, i in zip(objects, keep):
            assert obj.id == int(out["classes"][i]) and 0 <= obj.id < len(exported["labels"])
            assert obj.score == pytest.approx(float(out["scores"][i]), abs=1e-6) and 0.0 <= obj.score <= 1.0
            ymin, xmin, ymax, xmax = out["boxes"][i]
            assert obj.bbox == (int(xmin * width / sx), int(ymin * height / sy), int(xmax * width / sx),
                                int(ymax * height / sy))
            assert obj.bbox.valid
        assert [o.score for o in objects] == sorted((o.score for o in objects), reverse=True)


def test_both_branches_agree(exported, pycoral, tmp_path):
    model = exported["result"].int8_tflite_path
    positional = _without_signature(model, tmp_path)
    for photo in exported["photos"]:
        assert _pycoral_objects(pycoral, model, photo, 0.0)[0] == _pycoral_objects(pycoral, positional, photo, 0.0)[0]

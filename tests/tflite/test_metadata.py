"""TFLite Model Metadata written without tflite-support: what MediaPipe's ObjectDetector and the TFLite Task
Library read (tests/clients/test_mediapipe.py loads it in the real client)."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import hashlib
import io
import zipfile

import numpy as np
import pytest

from edgetpu_detector.export.tflite_converter import convert_int8_tflite
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.flatbuffer import read_model, write_model
from edgetpu_detector.tflite.metadata import associated_files as af
from edgetpu_detector.tflite.metadata import detector as dm
from edgetpu_detector.tflite.metadata import model_metadata as md
from edgetpu_detector.tflite.metadata.schema import TFLITE_METADATA_KEY
from tests.detector_helpers import random_detector, synthetic_images

# SHA-256 of the ModelMetadata buffer that tflite-support 0.4.4's ObjectDetectorWriter (create_for_inference,
# labels.txt, normalization mean 0 / std 1) wrote for our detector, uint8 and float32 input alike (1268
# bytes). tflite-support cannot be installed beside TensorFlow 2.21 (protobuf < 4), so it was run once in an
# environment of its own; our writer must give the same bytes.
TFLITE_SUPPORT_BUFFER_SHA256 = "0835857625f21a87c989b9f568c996168163d67ec744d0adffba23e58bff6dd5"
LABELS = b"date\nfig\nhazelnut\n"


@pytest.fixture(scope="module")
def int8(tmp_path_factory):
    model, config = random_detector(64, 3)
    path = tmp_path_factory.mktemp("meta") / "model_int8.tflite"
    return convert_int8_tflite(model, config, synthetic_images(2, 64, 64, seed=1), path,
                               NMSConfig(max_detections=5)).read_bytes()


def _entries(data):
    return [md.entry_name(m.name) for m in read_model(data).metadata or []]


def _outputs(data, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return TFLiteDetector(path).outputs(synthetic_images(1, 64, 64, seed=2)[0])


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_the_buffer_is_the_one_tflite_support_writes(dtype):
    assert hashlib.sha256(md.encode_metadata(dm.detector_metadata(dtype))).hexdigest() == \
        TFLITE_SUPPORT_BUFFER_SHA256


def test_encode_decode_round_trip():
    meta = dm.detector_metadata("uint8", version="7")
    assert md.decode_metadata(md.encode_metadata(meta)) == dict(meta, min_parser_version="1.2.0")
    image = dm.detector_metadata("float32", norm_mean=(127.5,), norm_std=(127.5,))["subgraph_metadata"][0][
        "input_tensor_metadata"][0]
    assert image["stats"] == {"min": [-1.0], "max": [1.0]}


def test_min_parser_version_follows_the_fields_used():
    assert md.min_parser_version({"subgraph_metadata": [{"input_tensor_metadata": []}]}) == "1.0.0"
    assert md.min_parser_version({"subgraph_metadata": [{"output_tensor_groups": [{"name": "g"}]}]}) == "1.2.0"
    assert md.min_parser_version({"subgraph_metadata": [{"custom_metadata": [{"name": "x"}]}]}) == "1.5.0"


def test_attaching_changes_no_output_and_replaces_earlier_metadata(int8, tmp_path):
    once = dm.attach_detector_metadata(int8, LABELS, version="1")
    assert _entries(once) == _entries(int8) + [TFLITE_METADATA_KEY]
    for key, value in _outputs(int8, tmp_path).items():
        np.testing.assert_array_equal(value, _outputs(once, tmp_path)[key])
    twice = dm.attach_detector_metadata(once, LABELS, version="2")
    assert _entries(twice).count(TFLITE_METADATA_KEY) == 1
    assert zipfile.ZipFile(io.BytesIO(twice)).namelist() == ["labels.txt"]
    assert md.read_metadata(twice)[0]["version"] == "2"
    assert dm.attach_detector_metadata(once, LABELS, version="1") == once  # deterministic


def test_copy_restores_what_the_compiler_drops(int8, tmp_path):
    source = tmp_path / "model_int8.tflite"
    source.write_bytes(dm.attach_detector_metadata(int8, LABELS))
    stripped = tmp_path / "model_int8_edgetpu.tflite"  # what edgetpu_compiler leaves: no metadata, no zip
    stripped.write_bytes(write_model(read_model(int8)))
    md.copy_metadata(source, stripped)
    assert md.metadata_buffer(stripped.read_bytes()) == md.metadata_buffer(source.read_bytes())
    assert af.read_files(stripped.read_bytes()) == {"labels.txt": LABELS}


def test_output_metadata_follow_the_model_output_order(int8):
    model = read_model(int8)
    subgraph = model.subgraphs[0]
    subgraph.outputs = [subgraph.outputs[i] for i in (3, 2, 1, 0)]
    reordered = write_model(model)
    assert dm.detector_output_roles(reordered) == [3, 2, 1, 0]
    meta, _ = md.read_metadata(dm.attach_detector_metadata(reordered, LABELS))
    names = [t["name"] for t in meta["subgraph_metadata"][0]["output_tensor_metadata"]]
    assert names == ["number of detections", "score", "category", "location"]


def test_bad_metadata_is_refused_with_the_reason(int8):
    meta = dm.detector_metadata("uint8")
    meta["subgraph_metadata"][0]["output_tensor_metadata"].pop()
    with pytest.raises(ValueError, match="3 output tensor metadata for 4 model outputs"):
        md.attach_metadata(int8, meta, {"labels.txt": LABELS})
    with pytest.raises(ValueError, match="names files"):
        md.attach_metadata(int8, dm.detector_metadata("uint8"), {})
    with pytest.raises(ValueError, match="TFL3"):
        md.attach_metadata(b"0123456789", dm.detector_metadata("uint8"), {"labels.txt": LABELS})


def test_associated_files_round_trip(int8):
    assert not af.is_packed(int8) and af.read_files(int8) == {}
    files = {"labels.txt": b"a\nb\n", "more.txt": b"x"}
    packed = af.pack_files(int8, files)
    assert packed[:len(int8)] == int8 and af.read_files(packed) == files and af.strip_files(packed) == int8
    with pytest.raises(ValueError):
        af.pack_files(packed, files)


def test_coral_compiled_model_keeps_its_edgetpu_op(shared_dir):
    coral = shared_dir / "reference_models/coral_test_data/mobilenet_v1_0.25_128_quant_edgetpu.tflite"
    data = coral.read_bytes()  # read in memory only
    meta = {"name": "classifier", "subgraph_metadata": [{"input_tensor_metadata": [{"name": "image"}],
                                                          "output_tensor_metadata": [{"name": "probability"}]}]}
    out = md.attach_metadata(data, meta, {})
    assert md.read_metadata(out)[0] == dict(meta, min_parser_version="1.0.0")

    def ops(model):
        return [(md.entry_name(model.operatorCodes[o.opcodeIndex].customCode or b""),
                 b"" if o.customOptions is None else bytes(bytearray(o.customOptions)))
                for o in model.subgraphs[0].operators]

    assert ops(read_model(data)) == ops(read_model(out)) and "edgetpu-custom-op" in dict(ops(read_model(out)))

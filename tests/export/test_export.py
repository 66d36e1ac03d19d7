"""Tests of edgetpu_detector.export: SavedModel, frozen graph, float / int8 TFLite with the detection custom op, Edge TPU.

A small random detector (96 x 96, alpha 0.35, 3 classes, fixed seed; ``detector_helpers.random_detector``:
batch-norm statistics from one batch of images, widened class heads) stands in for a trained one, so that
its outputs vary like a real detector's and the comparisons below mean something.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import ctypes
import gc
from pathlib import Path

from ai_edge_litert.interpreter import Interpreter, OpResolverType
import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.export.frozen_graph import FROZEN_OUTPUT_TENSORS, export_frozen_graph, load_frozen_graph
from edgetpu_detector.tflite.detection_postprocess import OUTPUT_NAMES as TFLITE_OUTPUT_NAMES
from edgetpu_detector.tflite.detection_postprocess import POSTPROCESS_OP as TFLITE_POSTPROCESS_OP
from edgetpu_detector.export.saved_model import SERVING_INPUT, SERVING_OUTPUTS, export_saved_model
from edgetpu_detector.export.tflite_converter import convert_float_tflite, convert_int8_tflite
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.box_ops import pairwise_iou
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.postprocess import NMSConfig, postprocess
from edgetpu_detector.tflite.edgetpu_compiler import compile_for_edgetpu, find_edgetpu_compiler, parse_edgetpu_log
from edgetpu_detector.tflite.info import tflite_io, tflite_ops
from edgetpu_detector.tflite.interpreter import (
    EDGETPU_LIBRARY,
    edgetpu_runtime_available,
    load_edgetpu_delegate,
    make_interpreter,
)
from tests.detector_helpers import random_detector, synthetic_images

SIZE = 96
NUM_CLASSES = 3
NMS = NMSConfig(max_detections=20, max_detections_per_class=20)
# Two float32 computations of the same network by different kernels (TensorFlow's vs TFLite's XNNPACK, with
# their own summation orders) differ by rounding: measured here up to ~1.3e-4 on box encodings of magnitude
# ~8 (about 140 float32 ulps of the tensor's scale) with TensorFlow's Eigen kernels, up to ~5.4e-4 on magnitude
# ~1.5 (about 2900 ulps) with its oneDNN kernels (on by default since issue 13). Allow 10000 ulps of each
# tensor's largest magnitude (1.2e-3 of it): a wrong op or weight differs by far more.
FLOAT32_ULPS = 10000 * np.finfo(np.float32).eps


def _assert_same_float32(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=FLOAT32_ULPS * float(np.abs(expected).max()))


@pytest.fixture(scope="module")
def detector():
    return random_detector(SIZE, NUM_CLASSES)


@pytest.fixture(scope="module")
def images():
    return synthetic_images(3, SIZE, SIZE, seed=7)


@pytest.fixture(scope="module")
def exports(detector, tmp_path_factory):
    model, config = detector
    root = tmp_path_factory.mktemp("export")
    calibration = synthetic_images(6, 120, 160, seed=3)
    return {
        "saved_model": export_saved_model(model, config, root / "saved_model", nms=NMS),
        "frozen": export_frozen_graph(model, config, root / "frozen", nms=NMS),
        # Regular (per-class) NMS so that the float model's detections are comparable with the SavedModel.
        "float": convert_float_tflite(model, config, root / "model_float.tflite", nms=NMS),
        "int8": convert_int8_tflite(model, config, calibration, root / "model_int8.tflite", nms=NMS),
        "root": root,
    }


def _serve(saved_model_dir, image):
    signature = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    return {k: v.numpy() for k, v in signature(**{SERVING_INPUT: tf.constant(image[np.newaxis])}).items()}


def _postprocess_inputs(path, image):
    """Run a detection .tflite and return the two tensor inputs of its custom op (box encodings, scores),
    dequantized, as float32 [A, 4] and [A, C + 1]."""
    detector = TFLiteDetector(path, default_delegates=False)
    interpreter = Interpreter(str(path), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], detector.input_tensor(image))
    interpreter.invoke()
    op = next(o for o in interpreter._get_ops_details() if o["op_name"] == TFLITE_POSTPROCESS_OP)
    return [interpreter.get_tensor(int(i))[0].astype(np.float32) for i in op["inputs"][:2]]


def _iou(a, b):
    return float(pairwise_iou(np.float32([a]), np.float32([b]))[0, 0])


# ---------------------------------------------------------------- SavedModel


def test_saved_model_signature(exports):
    signature = tf.saved_model.load(str(exports["saved_model"])).signatures["serving_default"]
    _, inputs = signature.structured_input_signature
    assert list(inputs) == [SERVING_INPUT]
    assert inputs[SERVING_INPUT].dtype == tf.uint8
    assert inputs[SERVING_INPUT].shape.as_list() == [1, None, None, 3]
    outputs = signature.structured_outputs
    assert set(outputs) == set(SERVING_OUTPUTS)
    assert outputs["detection_boxes"].shape.as_list() == [1, NMS.max_detections, 4]
    assert outputs["detection_classes"].shape.as_list() == [1, NMS.max_detections]
    assert outputs["detection_scores"].shape.as_list() == [1, NMS.max_detections]
    assert outputs["num_detections"].shape.as_list() == [1]
    assert all(t.dtype == tf.float32 for t in outputs.values())
    assert not list(Path(exports["saved_model"]).parent.glob(".saved_model.*"))  # no temporary left behind


def test_saved_model_runs_on_other_size_and_matches_keras(detector, exports, images):
    model, config = detector
    other = synthetic_images(1, 150, 220, seed=11)[0]
    out = _serve(exports["saved_model"], other)
    n = int(out["num_detections"][0])
    assert n == NMS.max_detections
    boxes, classes, scores = out["detection_boxes"][0], out["detection_classes"][0], out["detection_scores"][0]
    assert np.all((boxes >= 0) & (boxes <= 1)) and np.all(boxes[:, 2:] >= boxes[:, :2])
    assert set(np.unique(classes)) <= set(range(1, NUM_CLASSES + 1))
    assert np.all(np.diff(scores) <= 1e-7)

    # On an image of the model's own size the signature equals Keras model + edgetpu_detector.ssd.postprocess.
    out = _serve(exports["saved_model"], images[0])
    box_encodings, class_logits = model(images[0][np.newaxis].astype(np.float32), training=False)
    expected = postprocess(box_encodings, class_logits, config.generate_anchors(), config.box_coder, NMS)
    for key, value in expected.items():
        np.testing.assert_allclose(out[key], value.numpy(), atol=1e-4, err_msg=key)


def test_saved_model_replaces_existing_export(detector, tmp_path):
    model, config = detector
    target = tmp_path / "sm"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    export_saved_model(model, config, target, nms=NMS)
    assert (target / "saved_model.pb").is_file() and not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]


def test_model_config_mismatch_is_rejected(detector, tmp_path):
    model, _ = detector
    wrong = DetectorConfig(image_size=SIZE, num_classes=NUM_CLASSES + 1, alpha=0.35)
    with pytest.raises(ValueError, match="do not match"):
        export_saved_model(model, wrong, tmp_path / "sm")
    assert not (tmp_path / "sm").exists()


# ---------------------------------------------------------------- frozen graph


def test_frozen_graph_loads_with_tf1_and_matches_saved_model(exports, images):
    path = exports["frozen"]
    assert path.name == "frozen_inference_graph.pb"
    run = load_frozen_graph(path)
    try:
        image = synthetic_images(1, 130, 110, seed=5)[0]
        frozen = run(image)
    finally:
        run.close()
    served = _serve(exports["saved_model"], image)
    assert set(frozen) == set(FROZEN_OUTPUT_TENSORS)
    for key in FROZEN_OUTPUT_TENSORS:
        np.testing.assert_allclose(frozen[key], served[key], atol=1e-4, err_msg=key)


# ---------------------------------------------------------------- TFLite


def _check_outputs_in_pycoral_order(path):
    inputs, outputs = tflite_io(path)
    assert [o["name"] for o in outputs] == list(TFLITE_OUTPUT_NAMES)
    assert all(o["dtype"] == "float32" for o in outputs)
    interpreter = make_interpreter(path)
    shapes = [tuple(d["shape"]) for d in interpreter.get_output_details()]
    names = [d["name"] for d in interpreter.get_output_details()]
    assert names == list(TFLITE_OUTPUT_NAMES)
    n = NMS.max_detections
    assert shapes == [(1, n, 4), (1, n), (1, n), (1,)]
    # pycoral's detect adapter reads a model with a signature by key: output_0 count, output_1 scores,
    # output_2 classes, output_3 boxes. The keys must name the same tensors as the positional outputs.
    (signature,) = interpreter._get_full_signature_list().values()
    by_index = {d["index"]: d["name"] for d in interpreter.get_output_details()}
    keyed = {key: by_index[index] for key, index in signature["outputs"].items()}
    assert keyed == {"output_0": names[3], "output_1": names[2], "output_2": names[1], "output_3": names[0]}
    return inputs, interpreter


def test_float_tflite_matches_saved_model(detector, exports, images):
    model, config = detector
    inputs, _ = _check_outputs_in_pycoral_order(exports["float"])
    assert inputs[0]["dtype"] == "float32" and inputs[0]["shape"] == (1, SIZE, SIZE, 3)
    names = [op.name for op in tflite_ops(exports["float"])]
    assert names.count(TFLITE_POSTPROCESS_OP) == 1 and names[-1] == TFLITE_POSTPROCESS_OP

    for image in images:
        # The custom op's inputs are the Keras outputs (box encodings; sigmoid scores incl. background).
        encodings, scores = _postprocess_inputs(exports["float"], image)
        box_encodings, class_logits = model(image[np.newaxis].astype(np.float32), training=False)
        _assert_same_float32(encodings, box_encodings[0].numpy())
        _assert_same_float32(scores, tf.sigmoid(class_logits)[0].numpy())

        # With regular NMS the detections equal the SavedModel's (the SavedModel clips boxes before NMS
        # and the op does not, so compare the top detections, whose boxes lie inside the image).
        tfl = TFLiteDetector(exports["float"]).detect(image)
        served = _serve(exports["saved_model"], image)
        for i in range(5):
            assert tfl.classes[i] == served["detection_classes"][0, i]
            assert abs(tfl.scores[i] - served["detection_scores"][0, i]) < 1e-4
            assert _iou(tfl.boxes[i], served["detection_boxes"][0, i]) > 0.95


def test_int8_tflite_is_full_integer_with_custom_op(exports):
    path = exports["int8"]
    inputs, _ = _check_outputs_in_pycoral_order(path)
    assert len(inputs) == 1
    assert inputs[0]["dtype"] == "uint8" and inputs[0]["shape"] == (1, SIZE, SIZE, 3)
    assert inputs[0]["scale"] == pytest.approx(1.0, abs=1e-4) and inputs[0]["zero_point"] == 0

    ops = tflite_ops(path)
    custom = [op for op in ops if op.name == TFLITE_POSTPROCESS_OP]
    assert len(custom) == 1 and ops[-1] is custom[0]
    op = custom[0]
    assert op.input_types == ("float32", "float32", "float32") and op.constant_inputs == (False, False, True)
    assert op.output_types == ("float32",) * 4
    for op in ops[:-1]:
        assert not op.custom, op
        if op.name == "QUANTIZE":
            assert op.input_types == ("uint8",) and op.output_types == ("int8",)
        elif op.name == "DEQUANTIZE":
            assert op.input_types == ("int8",) and op.output_types == ("float32",)
        else:
            # int8 activations and weights; int32 only for biases and shape operands.
            assert set(op.input_types) <= {"int8", "int32"} and "int8" in op.input_types, op
            assert op.output_types == ("int8",), op
    assert [op.name for op in ops].count("DEQUANTIZE") == 2
    assert sum(op.name == "CONV_2D" for op in ops) > 10


def test_int8_tflite_detections(exports, images):
    detector = TFLiteDetector(exports["int8"])
    matched = []
    for image in images:
        result = detector.detect(image)
        assert len(result) == NMS.max_detections
        assert result.boxes.shape == (len(result), 4) and result.boxes.dtype == np.float32
        assert np.all((result.boxes >= 0) & (result.boxes <= 1))
        assert np.all(result.boxes[:, 2:] >= result.boxes[:, :2])
        assert np.all((result.classes >= 1) & (result.classes <= NUM_CLASSES))
        assert np.all((result.scores > 0) & (result.scores <= 1)) and np.all(np.diff(result.scores) <= 0)

        # Sanity bounds on the quantization error of the op's inputs relative to the float model. This random
        # network quantizes worse than a trained one (measured: box-encoding correlation ~0.75-0.8, score
        # mean error ~0.011, i.e. ~3 steps of the int8 sigmoid's 1/256 output scale).
        q_encodings, q_scores = _postprocess_inputs(exports["int8"], image)
        f_encodings, f_scores = _postprocess_inputs(exports["float"], image)
        assert np.corrcoef(q_encodings.ravel(), f_encodings.ravel())[0, 1] > 0.6
        assert np.abs(q_scores - f_scores)[:, 1:].mean() < 0.03
        # One of the float model's top-3 detections is among the int8 model's top 10 (same class, IoU > 0.5).
        floats = TFLiteDetector(exports["float"]).detect(image)
        matched.append(any(
            _iou(floats.boxes[i], result.boxes[j]) > 0.5 and floats.classes[i] == result.classes[j]
            for i in range(3) for j in range(10)))
    assert all(matched)


def test_tflite_detector_resizes_and_rejects_bad_images(exports):
    image = synthetic_images(1, 200, 150, seed=9)[0]
    detector = TFLiteDetector(exports["int8"])
    assert len(detector.detect(image)) == NMS.max_detections
    with pytest.raises(TypeError, match="uint8"):
        detector.detect(image.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        detector.detect(image[..., :1])
    with pytest.raises(FileNotFoundError):
        TFLiteDetector(exports["root"] / "missing.tflite")


def test_int8_conversion_rejects_bad_calibration_data(detector, tmp_path):
    model, config = detector
    with pytest.raises(ValueError, match="at least one"):
        convert_int8_tflite(model, config, [], tmp_path / "m.tflite")
    with pytest.raises(TypeError, match="uint8"):
        convert_int8_tflite(model, config, [np.zeros((SIZE, SIZE, 3), np.float32)], tmp_path / "m.tflite")
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- Edge TPU


# No half-built ai_edge_litert Delegate left behind (its __del__ raised) when libedgetpu.so.1 is absent.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_edgetpu_compiler_lookup_and_runtime_probe(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_edgetpu_compiler() is None
    model = tmp_path / "m.tflite"
    model.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="edgetpu_compiler"):
        compile_for_edgetpu(model, tmp_path / "out")
    assert isinstance(edgetpu_runtime_available(), bool)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_absent_edgetpu_runtime_is_one_clear_error(shared_dir):
    try:
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError:
        pass
    else:
        pytest.skip(f"{EDGETPU_LIBRARY} is installed here: its absence cannot be tested")
    with pytest.raises(ValueError, match=rf"the Edge TPU runtime {EDGETPU_LIBRARY} cannot be loaded"):
        load_edgetpu_delegate()
    assert edgetpu_runtime_available() is False
    compiled = shared_dir / "reference_models" / "coral_test_data" / "mobilenet_v1_0.25_128_quant_edgetpu.tflite"
    with pytest.raises(ValueError, match=EDGETPU_LIBRARY):
        make_interpreter(compiled, edgetpu=True)
    gc.collect()  # a half-built Delegate's __del__ would raise here (the warning is an error in this test)


def test_parse_edgetpu_log():
    text = ("Edge TPU Compiler version 16.0.384591198\nModel compiled successfully in 1043 ms.\n"
            "Number of operations that will run on Edge TPU: 104\n"
            "Number of operations that will run on CPU: 3\n")
    assert parse_edgetpu_log(text) == {"ops_on_edgetpu": 104, "ops_on_cpu": 3, "ops_total": 107,
                                       "ops_mapped_fraction": pytest.approx(104 / 107)}
    assert parse_edgetpu_log("nothing") == {}


@pytest.mark.skipif(find_edgetpu_compiler() is None,
                    reason="edgetpu_compiler is not installed (Coral Debian package edgetpu-compiler, x86-64 only)")
def test_compile_for_edgetpu(exports, tmp_path):
    (compiled,), log = compile_for_edgetpu(exports["int8"], tmp_path)
    assert compiled.name == "model_int8_edgetpu.tflite" and compiled.stat().st_size > 0
    assert parse_edgetpu_log(log.read_text()).get("ops_on_edgetpu", 0) > 0
    assert [op.name for op in tflite_ops(compiled)][0] in ("edgetpu-custom-op", "QUANTIZE")

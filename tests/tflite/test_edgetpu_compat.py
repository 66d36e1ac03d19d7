"""Edge TPU readiness: the compatibility checker (validated on Coral's compiled reference models), the
converted detector's verdict and its detections against the SavedModel, the compiler wrapper and its log
parser (the Docker front door: tests/tools/test_run_sh.py).

Coral's ``edgetpu_compiler`` cannot run here (x86-64 Debian package, not installed in CI) and is mocked, as said
where it is: a small script that records its arguments and writes what the real compiler writes.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.export.tflite_converter import convert_int8_tflite
from edgetpu_detector.images.arrays import resize_image
from edgetpu_detector.inference.saved_model_detector import SavedModelDetector
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.box_ops import pairwise_iou
from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.edgetpu_compat import (
    CPU_BEFORE,
    PRECOMPILED,
    VERDICT_ALL,
    VERDICT_BEFORE_POSTPROCESS,
    VERDICT_NONE,
    check_edgetpu_compatibility,
    ops_absorbed_by_compiler,
)
from edgetpu_detector.tflite.edgetpu_compiler import (
    COMPILED,
    EdgeTPUCompileError,
    compile_for_edgetpu,
    parse_edgetpu_log,
    parse_operator_table,
)
from edgetpu_detector.tflite.info import tflite_io
from edgetpu_detector.tfrecord.reader import read_examples
from edgetpu_detector.tflite.metadata.associated_files import read_files
from edgetpu_detector.tflite.metadata.model_metadata import metadata_buffer
from tests.exported_detector import SIZE as EXPORT_SIZE
from tests.fake_compiler import COMPILER_LOG, install_fake_compiler

ROOT = Path(__file__).resolve().parents[2]
SIZE = 128
NMS = NMSConfig(nms_score_threshold=0.05, iou_threshold=0.6, max_detections=10, max_detections_per_class=10)

# ---------------------------------------------------------------- the checker on Coral's reference models


@pytest.fixture(scope="module")
def coral(shared_dir):
    return shared_dir / "reference_models" / "coral_test_data"


def _agreement(coral, name):
    cpu, compiled = coral / f"{name}.tflite", coral / f"{name}_edgetpu.tflite"
    report = check_edgetpu_compatibility(cpu)
    return report, report.mapped_indices, ops_absorbed_by_compiler(cpu, compiled)


def test_checker_agrees_with_coral_compiler_on_mobilenet_v1(coral):
    report, predicted, absorbed = _agreement(coral, "mobilenet_v1_0.25_128_quant")
    assert absorbed == set(range(31))  # Coral's compiler mapped the whole classifier
    assert predicted == absorbed
    assert report.verdict == VERDICT_ALL and report.cut == []
    assert 0 < report.parameter_bytes < 1_000_000 and report.parameters_fit_on_chip


def test_checker_agrees_with_coral_compiler_on_deeplab(coral):
    report, predicted, absorbed = _agreement(coral, "deeplabv3_mnv2_dm05_pascal_quant")
    assert len(absorbed) == 64 and report.ops_total == 72
    assert predicted == absorbed
    # The cut: the image-pooling branch's 1x1 -> 33x33 bilinear resize; everything after it stays on the CPU
    # while the parallel ASPP branch (op 62) still maps.
    assert [(c["index"], c["op"]) for c in report.cut] == [(64, "RESIZE_BILINEAR")]
    assert "whole-number upscale" in report.cut[0]["reasons"][0]
    assert 62 in predicted and not {65, 66, 67, 68, 69, 70, 71} & predicted


def test_checker_agrees_with_coral_compiler_on_movenet(coral):
    report, predicted, absorbed = _agreement(coral, "movenet_single_pose_lightning_ptq")
    agreement = sum((i in predicted) == (i in absorbed) for i in range(report.ops_total)) / report.ops_total
    print(f"MoveNet: checker and compiler agree on {agreement:.1%} of {report.ops_total} ops")
    assert agreement == 1.0 and len(absorbed) == 98
    # The float input's CAST + QUANTIZE stay on the CPU *before* the Edge TPU subgraph; ARG_MAX cuts it.
    assert [report.ops[i].placement for i in (0, 1)] == [CPU_BEFORE, CPU_BEFORE]
    assert report.cut[0]["op"] == "ARG_MAX"
    assert all(c["index"] not in absorbed for c in report.cut)


def test_checker_on_coral_compiled_ssd_segment(coral):
    # Coral's own SSD detector, compiled: the Edge TPU op, then DEQUANTIZE x2 and the post-processing op.
    path = coral / "pipeline" / "ssd_mobilenet_v2_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite"
    report = check_edgetpu_compatibility(path)
    assert [o.op for o in report.ops if o.placement == PRECOMPILED] == ["edgetpu-custom-op"]
    assert sorted(o.op for o in report.ops if not o.maps) == ["DEQUANTIZE", "DEQUANTIZE",
                                                              "TFLite_Detection_PostProcess"]
    assert report.verdict == VERDICT_BEFORE_POSTPROCESS


def test_ops_absorbed_rejects_an_uncompiled_twin(coral):
    path = coral / "mobilenet_v1_0.25_128_quant.tflite"
    with pytest.raises(ValueError, match="edgetpu-custom-op"):
        ops_absorbed_by_compiler(path, path)
    with pytest.raises(FileNotFoundError):
        check_edgetpu_compatibility(coral / "missing.tflite")


# The converter warns of the missing input statistics of the deliberately unquantizable dynamic-batch model.
@pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected")
def test_checker_flags_dynamic_batch_and_float_models(tmp_path):
    """A tiny conv model with a dynamic batch (the case the compiler answers with "Model not quantized")
    and its float twin: nothing maps, and the reasons say why."""
    @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)])
    def net(x):
        return tf.nn.relu(tf.nn.conv2d(x, tf.ones([3, 3, 3, 4]) * 0.1, 1, "SAME"))

    def representative():
        for _ in range(4):
            yield [np.random.default_rng(0).uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([net.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    report = check_edgetpu_compatibility(converter.convert())
    assert report.verdict == VERDICT_NONE and not report.model_checks["static_shapes"]
    assert any("dynamic shape" in r for o in report.ops for r in o.reasons)

    float_model = tf.lite.TFLiteConverter.from_concrete_functions([net.get_concrete_function()]).convert()
    report = check_edgetpu_compatibility(float_model)
    assert report.verdict == VERDICT_NONE
    assert any("float32" in r and "8-bit" in r for o in report.ops for r in o.reasons)


# ---------------------------------------------------------------- a briefly trained detector, converted


@pytest.fixture(scope="module")
def converted(exported_detector):
    """The fruit_nuts detector converted by the convert step's work with the (mocked) compiler on PATH
    (tests/exported_detector.py), and all 18 of its photos (train and test) at the model's input size: a
    conversion-fidelity check compares two forms of one model, so seen photos serve as well as unseen ones, and
    18 photos (over 400 detections) make its rates stable where the 2 test photos were not."""
    data = exported_detector["data"]
    images = [resize_image(e["image"], EXPORT_SIZE, EXPORT_SIZE)
              for record in (data.train_record, data.test_record) for e in read_examples(record)]
    return {**exported_detector, "images": images}


def _iou(a, b):
    return float(pairwise_iou(np.float32([a]), np.float32([b]))[0, 0])


def test_converted_int8_model_is_edgetpu_ready(converted):
    result = converted["result"]
    report = result.compatibility
    assert report.verdict == VERDICT_BEFORE_POSTPROCESS
    assert sorted(o.op for o in report.ops if not o.maps) == ["DEQUANTIZE", "DEQUANTIZE",
                                                              "TFLite_Detection_PostProcess"]
    assert {c["op"] for c in report.cut} == {"DEQUANTIZE"} and report.parameters_fit_on_chip
    assert report.model_checks["static_shapes"] and report.model_checks["batch_size_1"]
    inputs, _ = tflite_io(result.int8_tflite_path)
    assert inputs[0]["shape"] == (1, EXPORT_SIZE, EXPORT_SIZE, 3) and inputs[0]["dtype"] == "uint8"
    json_path, text_path = result.compatibility_paths
    assert json_path.name == "edgetpu_compatibility.json" and VERDICT_BEFORE_POSTPROCESS in text_path.read_text()


def test_default_300px_model_is_edgetpu_ready(tmp_path):
    """The default architecture (SSDLite-MobileNetV2, alpha 1, 300 x 300), untrained: the op graph, not the
    weights, decides what maps."""
    keras.utils.set_random_seed(0)
    config = DetectorConfig(num_classes=3)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (300, 300, 3), dtype=np.uint8) for _ in range(2)]
    path = convert_int8_tflite(build_detector(config), config, images, tmp_path / "m.tflite", NMS)
    report = check_edgetpu_compatibility(path)
    assert report.verdict == VERDICT_BEFORE_POSTPROCESS
    assert report.ops_on_cpu == 3 and report.ops_mapped > 100
    assert 2 * 2**20 < report.parameter_bytes < report.on_chip_memory_bytes


def test_tflite_detections_equal_saved_model_within_quantization_tolerance(converted):
    result, images = converted["result"], converted["images"]
    saved_model = SavedModelDetector(result.saved_model_dir)
    float_detector = TFLiteDetector(result.float_tflite_path)
    int8_detector = TFLiteDetector(result.int8_tflite_path)
    matched = {True: [], False: []}  # twin found, by "is among the photo's top 3"
    for image in images:
        served = saved_model.detect(image)
        assert len(served) and served.scores[0] > 0.1  # trained: an untrained head gives ~0.01
        floats = float_detector.detect(image)
        # float TFLite with per-class NMS == SavedModel: the same detections (class, score within 1e-4, box within
        # 1e-3), one to one. Compared as sets: detections whose scores tie within float error may swap places.
        assert len(floats) == len(served)
        unused = set(range(len(floats)))
        for box, cls, score in zip(served.boxes, served.classes, served.scores):
            twin = next((j for j in sorted(unused) if floats.classes[j] == cls
                         and abs(floats.scores[j] - score) <= 1e-4
                         and np.max(np.abs(floats.boxes[j] - box)) <= 1e-3), None)
            assert twin is not None, (box, cls, score)
            unused.discard(twin)
        # int8: the SavedModel's detections have int8 twins (same class, IoU > 0.7, score +- 0.1). After a short
        # training several scores lie within quantization error of each other, so a few lack one: measured over
        # three trainings, 96-98 % of all detections and 94-100 % of each photo's top 3 have a twin.
        quant = int8_detector.detect(image)
        for rank, (box, cls, score) in enumerate(zip(served.boxes, served.classes, served.scores)):
            twin = any(c == cls and _iou(box, b) > 0.7 and abs(s - score) < 0.1
                       for b, c, s in zip(quant.boxes, quant.classes, quant.scores))
            matched[rank < 3].append(twin)
    top3, others = matched[True], matched[False]
    assert len(top3) == 3 * len(images) and np.mean(top3) >= 0.85, f"{sum(top3)} / {len(top3)}"
    assert np.mean(top3 + others) >= 0.9, f"{sum(top3 + others)} / {len(top3 + others)}"


# ---------------------------------------------------------------- the compiler (mocked: not installed here)


def test_parse_edgetpu_log_reads_counts_and_memory():
    stats = parse_edgetpu_log(COMPILER_LOG)
    assert stats["ops_on_edgetpu"] == 116 and stats["ops_on_cpu"] == 3 and stats["ops_total"] == 119
    assert stats["edgetpu_subgraphs"] == 1
    assert stats["on_chip_memory_used_bytes"] == round(3.41 * 2**20)
    assert stats["on_chip_memory_remaining_bytes"] == round(4.37 * 2**20)
    assert stats["off_chip_memory_used_bytes"] == 0
    assert stats["ops_mapped_fraction"] == pytest.approx(116 / 119)
    rows = parse_operator_table(COMPILER_LOG)
    assert len(rows) == 10 and rows[2] == {"op": "DEQUANTIZE", "count": 2,
                                           "status": "Operation is working on an unsupported data type"}
    # a log holding only the table (the .log file) still gives the counts
    table_only = COMPILER_LOG[COMPILER_LOG.index("Operator   "):]
    assert {k: parse_edgetpu_log(table_only)[k] for k in ("ops_on_edgetpu", "ops_on_cpu")} == {
        "ops_on_edgetpu": 116, "ops_on_cpu": 3}
    assert parse_edgetpu_log("Compilation failed!") == {}


def test_convert_step_ran_the_compiler_with_its_options(converted):
    result = converted["result"]
    assert result.compiled.status == COMPILED
    assert result.edgetpu_model_path.name == "model_int8_edgetpu.tflite"
    assert result.compiled.stats["ops_on_edgetpu"] == 116 and result.compiled.stats["off_chip_memory_used_bytes"] == 0
    (argv,) = (converted["root"] / "bin" / "args.txt").read_text().splitlines()
    assert argv.split() == ["-s", "-o", str(result.output_dir), "-t", "60", "-d", str(result.int8_tflite_path)]
    log = result.compiled.log_path.read_text()
    assert "Operator   " in log and "On-chip memory used" in log  # the .log table and the -s summary
    # The compiler drops the TFLite Model Metadata (the fake does too); the convert step puts it back.
    compiled, int8 = result.edgetpu_model_path.read_bytes(), result.int8_tflite_path.read_bytes()
    assert metadata_buffer(compiled) == metadata_buffer(int8) is not None
    assert read_files(compiled) == read_files(int8) == {"labels.txt": result.labels_path.read_bytes()}


def test_compile_for_edgetpu_segments_and_timeout(tmp_path, monkeypatch):
    install_fake_compiler(tmp_path / "bin", monkeypatch)
    model = tmp_path / "m.tflite"
    model.write_bytes(b"\0\0\0\0TFL3")
    compiled, log = compile_for_edgetpu(model, tmp_path / "out", timeout_s=30, num_segments=2)
    assert [p.name for p in compiled] == ["m_segment_0_of_2_edgetpu.tflite", "m_segment_1_of_2_edgetpu.tflite"]
    assert "-n 2" in (tmp_path / "bin" / "args.txt").read_text() and parse_edgetpu_log(log.read_text())
    monkeypatch.setenv("FAKE_COMPILER_SLEEP", "5")
    with pytest.raises(EdgeTPUCompileError, match="timed out after 1 s"):
        compile_for_edgetpu(model, tmp_path / "out2", timeout_s=1)
    with pytest.raises(ValueError, match="num_segments"):
        compile_for_edgetpu(model, tmp_path / "out3", num_segments=0)

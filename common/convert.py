"""The convert step's work: every exported form of a retrained detector, ready for the Edge TPU.

Writes, into one folder: ``saved_model/`` (TF OD API serving signature), ``frozen_inference_graph.pb``,
``model_float.tflite``, ``model_int8.tflite`` (full-integer, uint8 input, ends in
``TFLite_Detection_PostProcess``), ``labels.txt``, and, when Coral's ``edgetpu_compiler`` is on PATH,
``model_int8_edgetpu.tflite`` with the compiler's log. Without the compiler nothing pretends to be compiled.
Always writes ``edgetpu_compatibility.json`` / ``.txt``: the Edge TPU compatibility report of the int8 model
(``common.export.edgetpu_compat``), which needs no compiler.
"""
from dataclasses import dataclass, field
import itertools
from pathlib import Path
import time

from common.export import (check_edgetpu_compatibility, compile_for_edgetpu, convert_float_tflite,
                           convert_int8_tflite, export_frozen_graph, export_saved_model, find_edgetpu_compiler,
                           parse_edgetpu_log, tflite_ops)
from common.label_map import read_label_map, write_labels_txt
from common.postprocess import NMSConfig
from common.tfrecord import read_examples
from common.train import load_trained_detector

SAVED_MODEL_DIR = "saved_model"
FLOAT_TFLITE = "model_float.tflite"
INT8_TFLITE = "model_int8.tflite"
LABELS_TXT = "labels.txt"
COMPATIBILITY_JSON = "edgetpu_compatibility.json"
COMPATIBILITY_TXT = "edgetpu_compatibility.txt"

COMPILED = "compiled"
COMPILER_ABSENT = "compiler_absent"
COMPILE_FAILED = "compile_failed"


@dataclass
class ConvertResult:
    """Files written by ``convert_detector`` and what happened on the way."""

    output_dir: Path
    saved_model_dir: Path
    frozen_graph_path: Path
    float_tflite_path: Path
    int8_tflite_path: Path
    labels_path: Path
    edgetpu_status: str  # COMPILED, COMPILER_ABSENT or COMPILE_FAILED
    edgetpu_message: str
    edgetpu_model_path: Path | None = None
    edgetpu_log_path: Path | None = None
    edgetpu_stats: dict = field(default_factory=dict)
    edgetpu_models: list = field(default_factory=list)  # all compiled files (several with num_segments > 1)
    compatibility: object = None  # CompatibilityReport of the int8 model
    compatibility_paths: tuple = ()
    int8_ops: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)


def representative_images(record_path, count):
    """The first ``count`` images (uint8 [H, W, 3]) of a TFRecord file, as a list.

    Raises:
      ValueError: the file holds no image.
    """
    images = [example["image"] for example in itertools.islice(read_examples(record_path), max(count, 1))]
    if not images:
        raise ValueError(f"{record_path} holds no images to calibrate the int8 model with")
    return images


@dataclass(frozen=True)
class CompilerOptions:
    """``edgetpu_compiler`` options: ``timeout_s`` (seconds), ``search_delegate`` (``-d``), ``num_segments``
    (``-n``, for pipelining over several Edge TPUs)."""

    timeout_s: int = 600
    search_delegate: bool = False
    num_segments: int = 1


def convert_detector(model_dir, train_record, label_map_path, output_dir, num_calibration_images=100,
                     nms=NMSConfig(score_threshold=0.3, max_detections=10), compile_timeout_s=600,
                     use_regular_nms=False, compiler_options=None):
    """Export a retrained detector in every form and compile it for the Edge TPU when possible.

    Args:
      model_dir: folder written by ``common.train.train``.
      train_record: TFRecord whose first images form the representative dataset.
      label_map_path: ``label_map.pbtxt`` of the data (for ``labels.txt``).
      output_dir: destination folder.
      num_calibration_images: int, representative images for post-training quantization.
      nms: NMSConfig of the exported post-processing (SavedModel and the TFLite op).
      compile_timeout_s: seconds before ``edgetpu_compiler`` is stopped (when ``compiler_options`` is None).
      use_regular_nms: False: the TFLite op's fast class-agnostic NMS (one class per box); True: per-class
        NMS, as the SavedModel does (slower on the device's CPU).
      compiler_options: ``CompilerOptions`` (default: ``CompilerOptions(timeout_s=compile_timeout_s)``).

    Returns:
      ConvertResult.

    Raises:
      FileNotFoundError: missing inputs; ValueError: empty records or a model/config mismatch.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model, config = load_trained_detector(model_dir)
    seconds = {}

    def timed(name, fn, *args, **kwargs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds[name] = time.perf_counter() - started
        return out

    saved_model_dir = timed("saved_model", export_saved_model, model, config, output_dir / SAVED_MODEL_DIR, nms)
    frozen = timed("frozen_graph", export_frozen_graph, model, config, output_dir, nms)
    float_path = timed("float_tflite", convert_float_tflite, model, config, output_dir / FLOAT_TFLITE, nms,
                       use_regular_nms)
    calibration = representative_images(train_record, num_calibration_images)
    int8_path = timed("int8_tflite", convert_int8_tflite, model, config, calibration, output_dir / INT8_TFLITE, nms,
                      use_regular_nms)
    labels_path = write_labels_txt(read_label_map(label_map_path), output_dir / LABELS_TXT)
    report = timed("edgetpu_compatibility", check_edgetpu_compatibility, int8_path)
    report_json = report.write(output_dir / COMPATIBILITY_JSON)
    report_txt = output_dir / COMPATIBILITY_TXT
    report_txt.write_text(report.format_text())
    result = ConvertResult(output_dir=output_dir, saved_model_dir=Path(saved_model_dir), frozen_graph_path=Path(frozen),
                           float_tflite_path=Path(float_path), int8_tflite_path=Path(int8_path),
                           labels_path=Path(labels_path), edgetpu_status=COMPILER_ABSENT, edgetpu_message="",
                           int8_ops=tflite_ops(int8_path), seconds=seconds, compatibility=report,
                           compatibility_paths=(report_json, report_txt))
    options = compiler_options or CompilerOptions(timeout_s=compile_timeout_s)
    compiler = find_edgetpu_compiler()
    if compiler is None:
        result.edgetpu_message = ("edgetpu_compiler not found on PATH: the int8 model was not compiled for the "
                                  "Edge TPU (use the Docker image, or install Coral's edgetpu-compiler)")
        return result
    try:
        compiled, log = timed("edgetpu_compile", compile_for_edgetpu, int8_path, output_dir, options.timeout_s,
                              compiler, options.search_delegate, options.num_segments)
    except Exception as error:  # the compiler's own failure is reported, the exports are kept
        result.edgetpu_status = COMPILE_FAILED
        result.edgetpu_message = f"edgetpu_compiler failed: {error}"
        return result
    result.edgetpu_status = COMPILED
    result.edgetpu_models = [Path(p) for p in compiled]
    result.edgetpu_model_path, result.edgetpu_log_path = result.edgetpu_models[0], Path(log)
    result.edgetpu_stats = parse_edgetpu_log(Path(log).read_text())
    result.edgetpu_message = f"compiled for the Edge TPU: {', '.join(p.name for p in result.edgetpu_models)}"
    return result

"""The convert step's work: every exported form of a retrained detector, ready for the Edge TPU.

Writes, into one folder: ``saved_model/`` (TF OD API serving signature), ``frozen_inference_graph.pb``,
``model_float.tflite``, ``model_int8.tflite`` (full-integer, uint8 input, ends in
``TFLite_Detection_PostProcess``; both TFLite files carry TFLite Model Metadata with ``labels.txt`` packed,
for MediaPipe and the TFLite Task Library), ``labels.txt``, ``deployment.json`` (the post-processing and the
clients' score threshold), ``frigate/`` (label map and config snippet), and, when Coral's ``edgetpu_compiler``
is on PATH, ``model_int8_edgetpu.tflite`` (metadata re-attached: the compiler drops it) with the compiler's
log. Without the compiler nothing pretends to be compiled. Always writes ``edgetpu_compatibility.json`` /
``.txt``: the Edge TPU compatibility report of the int8 model (``edgetpu_detector.tflite.edgetpu_compat``),
which needs no compiler.
"""
from dataclasses import dataclass, field
from pathlib import Path
import time

from edgetpu_detector.data.label_map import LABELS_TXT, read_label_map, read_labels_txt, write_labels_txt
from edgetpu_detector.export.calibration import representative_images
from edgetpu_detector.export.deployment import Deployment
from edgetpu_detector.export.frigate import FRIGATE_DIR, write_frigate_files
from edgetpu_detector.export.frozen_graph import export_frozen_graph
from edgetpu_detector.export.saved_model import export_saved_model
from edgetpu_detector.export.tflite_converter import convert_float_tflite, convert_int8_tflite
from edgetpu_detector.ssd.checkpoint import load_trained_detector
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.edgetpu_compat import check_edgetpu_compatibility
from edgetpu_detector.tflite.edgetpu_compiler import (COMPILED, CompileOutcome, CompilerOptions, compile_if_available,
                                                     compiled_name)
from edgetpu_detector.tflite.info import tflite_ops
from edgetpu_detector.tflite.metadata.detector import write_detector_metadata
from edgetpu_detector.tflite.metadata.model_metadata import copy_metadata

SAVED_MODEL_DIR = "saved_model"
FLOAT_TFLITE = "model_float.tflite"
INT8_TFLITE = "model_int8.tflite"
COMPATIBILITY_JSON = "edgetpu_compatibility.json"
COMPATIBILITY_TXT = "edgetpu_compatibility.txt"


@dataclass
class ConvertResult:
    """Files written by ``convert_detector`` and what happened on the way; ``metrics()`` and ``tags()`` are
    what the convert run logs."""

    output_dir: Path
    saved_model_dir: Path
    frozen_graph_path: Path
    float_tflite_path: Path
    int8_tflite_path: Path
    labels_path: Path
    compiled: CompileOutcome
    deployment: Deployment
    compatibility: object  # CompatibilityReport of the int8 model
    compatibility_paths: tuple = ()
    int8_ops: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    @property
    def edgetpu_model_path(self):
        """The (first) compiled model, or None."""
        return self.compiled.models[0] if self.compiled.models else None

    def metrics(self):
        """``{name: number}``: Edge TPU compatibility, conversion times, file sizes, the compiler's figures."""
        report = self.compatibility
        return {"edgetpu_compat/ops_mapped": report.ops_mapped, "edgetpu_compat/ops_total": report.ops_total,
                "edgetpu_compat/ops_on_cpu": report.ops_on_cpu,
                "edgetpu_compat/parameter_bytes": report.parameter_bytes,
                **{f"convert/{name}_seconds": value for name, value in self.seconds.items()},
                "convert/int8_size_bytes": self.int8_tflite_path.stat().st_size,
                "convert/float_size_bytes": self.float_tflite_path.stat().st_size,
                "convert/int8_num_ops": len(self.int8_ops),
                "convert/max_detections": self.deployment.nms.max_detections,
                **{f"convert/edgetpu_{k}": v for k, v in self.compiled.stats.items()}}

    def tags(self):
        """``{name: text}``: the compiler's outcome, the compatibility verdict and cut, the model file names."""
        report = self.compatibility
        cut = "; ".join(f"#{c['index']} {c['op']}: {c['reasons'][0]}" for c in report.cut)
        tags = {"edgetpu_compat_verdict": report.verdict, "edgetpu_compat_cut": cut[:5000] or "none",
                "edgetpu_compat_fits_on_chip": str(report.parameters_fit_on_chip).lower(),
                "edgetpu_compiler": self.compiled.status, "edgetpu_message": self.compiled.message,
                "int8_model": self.int8_tflite_path.name,
                "nms": "per_class" if self.deployment.nms.use_regular_nms else
                       f"fast_{self.deployment.nms.max_classes_per_detection}_class"}
        if self.edgetpu_model_path is not None:
            tags["edgetpu_model"] = self.edgetpu_model_path.name
        return tags

    def summary(self):
        """Console lines: the compatibility verdict and the compiler's outcome."""
        report = self.compatibility
        return [f"convert: Edge TPU compatibility (no compiler): {report.verdict}; {report.ops_mapped} of "
                f"{report.ops_total} ops would map; parameters {report.parameter_bytes / 2**20:.2f} MiB",
                f"convert: {self.compiled.message}" if self.compiled.status == COMPILED else self.compiled.message]


def convert_detector(model_dir, train_record, label_map_path, output_dir, num_calibration_images=100,
                     deployment=Deployment(NMSConfig(max_detections=10), score_threshold=0.3),
                     compiler_options=CompilerOptions()):
    """Export a retrained detector in every form and compile it for the Edge TPU when possible.

    Args:
      model_dir: folder written by the retrain step (``edgetpu_detector.ssd.checkpoint``).
      train_record: TFRecord whose first images form the representative dataset.
      label_map_path: ``label_map.pbtxt`` of the data (for ``labels.txt``).
      output_dir: destination folder.
      num_calibration_images: int, representative images for post-training quantization.
      deployment: ``Deployment``: the post-processing of every exported form (SavedModel, frozen graph, the
        TFLite op) and the clients' default score threshold.
      compiler_options: ``CompilerOptions`` of ``edgetpu_compiler``.

    Returns:
      ConvertResult.

    Raises:
      FileNotFoundError: missing inputs; ValueError: empty records, a model/config mismatch or bad NMS values.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model, config = load_trained_detector(model_dir)
    nms = deployment.nms
    seconds = {}

    def timed(name, fn, *args, **kwargs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds[name] = time.perf_counter() - started
        return out

    saved_model_dir = timed("saved_model", export_saved_model, model, config, output_dir / SAVED_MODEL_DIR, nms)
    frozen = timed("frozen_graph", export_frozen_graph, model, config, output_dir, nms)
    float_path = timed("float_tflite", convert_float_tflite, model, config, output_dir / FLOAT_TFLITE, nms)
    calibration = representative_images(train_record, num_calibration_images)
    int8_path = timed("int8_tflite", convert_int8_tflite, model, config, calibration, output_dir / INT8_TFLITE, nms)
    labels_path = write_labels_txt(read_label_map(label_map_path), output_dir / LABELS_TXT)
    for path in (float_path, int8_path):
        write_detector_metadata(path, labels_path)
    deployment.write(output_dir)
    report = timed("edgetpu_compatibility", check_edgetpu_compatibility, int8_path)
    report_json = report.write(output_dir / COMPATIBILITY_JSON)
    report_txt = output_dir / COMPATIBILITY_TXT
    report_txt.write_text(report.format_text())
    started = time.perf_counter()
    compiled = compile_if_available(int8_path, output_dir, compiler_options)
    if compiled.models:
        seconds["edgetpu_compile"] = time.perf_counter() - started
        if len(compiled.models) == 1:  # the detector's metadata describes a whole model, not a segment
            copy_metadata(int8_path, compiled.models[0])
    write_frigate_files(output_dir / FRIGATE_DIR, INT8_TFLITE, compiled_name(INT8_TFLITE),
                        (config.image_size, config.image_size), read_labels_txt(labels_path),
                        deployment.score_threshold)
    return ConvertResult(output_dir=output_dir, saved_model_dir=Path(saved_model_dir), frozen_graph_path=Path(frozen),
                         float_tflite_path=Path(float_path), int8_tflite_path=Path(int8_path),
                         labels_path=Path(labels_path), compiled=compiled, deployment=deployment,
                         compatibility=report,
                         compatibility_paths=(report_json, report_txt), int8_ops=tflite_ops(int8_path),
                         seconds=seconds)

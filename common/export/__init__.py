"""Export a trained detector: TF2 SavedModel, TF1 frozen graph, float and int8 TFLite, Edge TPU.

One idea per module:

* ``saved_model``  -- ``export_saved_model``: TF OD API-style ``serving_default`` (uint8 image of any size);
* ``frozen_graph`` -- ``export_frozen_graph`` / ``load_frozen_graph``: ``frozen_inference_graph.pb``;
* ``tflite``       -- ``convert_float_tflite`` / ``convert_int8_tflite``: static [1, S, S, 3] models ending
  in the ``TFLite_Detection_PostProcess`` custom op (pycoral's output order);
* ``edgetpu``      -- ``find_edgetpu_compiler`` / ``compile_for_edgetpu`` (options: search delegate, segments) /
  ``parse_edgetpu_log`` / ``edgetpu_runtime_available``;
* ``edgetpu_compat`` -- ``check_edgetpu_compatibility``: which ops would map to the Edge TPU, without the
  compiler (rules in ``edgetpu_requirements``, graph view in ``tflite_graph``);
* ``tflite_info``  -- ``tflite_ops`` / ``tflite_io``: what is inside a ``.tflite`` file;
* ``runner``       -- ``run_tflite_detector``: run a detection ``.tflite`` on one uint8 image.

Import ``common.env`` before this package (or TensorFlow) to keep TensorFlow quiet.
"""
from common.export.edgetpu import (
    EdgeTPUCompileError,
    compile_for_edgetpu,
    edgetpu_compiler_command,
    edgetpu_runtime_available,
    find_edgetpu_compiler,
    parse_edgetpu_log,
    parse_operator_table,
)
from common.export.edgetpu_compat import (
    VERDICT_ALL,
    VERDICT_BEFORE_POSTPROCESS,
    CompatibilityReport,
    check_edgetpu_compatibility,
    ops_absorbed_by_compiler,
)
from common.export.frozen_graph import (
    FROZEN_GRAPH_FILENAME,
    FROZEN_INPUT_TENSOR,
    FROZEN_OUTPUT_TENSORS,
    export_frozen_graph,
    load_frozen_graph,
)
from common.export.tflite_info import tflite_io, tflite_ops
from common.export.postprocess_op import TFLITE_POSTPROCESS_OP, TFLITE_OUTPUT_NAMES
from common.export.runner import make_interpreter, run_tflite_detector
from common.export.saved_model import SERVING_INPUT, SERVING_OUTPUTS, export_saved_model
from common.export.tflite import convert_float_tflite, convert_int8_tflite

__all__ = [
    "CompatibilityReport", "EdgeTPUCompileError", "VERDICT_ALL", "VERDICT_BEFORE_POSTPROCESS",
    "check_edgetpu_compatibility", "edgetpu_compiler_command", "ops_absorbed_by_compiler", "parse_operator_table",
    "FROZEN_GRAPH_FILENAME", "FROZEN_INPUT_TENSOR", "FROZEN_OUTPUT_TENSORS",
    "SERVING_INPUT", "SERVING_OUTPUTS", "TFLITE_OUTPUT_NAMES", "TFLITE_POSTPROCESS_OP",
    "compile_for_edgetpu", "convert_float_tflite", "convert_int8_tflite", "edgetpu_runtime_available",
    "export_frozen_graph", "export_saved_model", "find_edgetpu_compiler", "load_frozen_graph",
    "make_interpreter", "parse_edgetpu_log", "run_tflite_detector", "tflite_io", "tflite_ops",
]

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

Names are imported lazily (PEP 562 ``__getattr__``): ``from common.export import run_tflite_detector`` loads
``runner`` alone, without TensorFlow; the exporters import TensorFlow when first used. Import ``common.env``
before this package (or TensorFlow) to keep TensorFlow quiet.
"""
from common.lazy_exports import lazy_exports

# Public name -> submodule that defines it.
_EXPORTS = {
    "EdgeTPUCompileError": "edgetpu",
    "compile_for_edgetpu": "edgetpu",
    "edgetpu_compiler_command": "edgetpu",
    "edgetpu_runtime_available": "edgetpu",
    "find_edgetpu_compiler": "edgetpu",
    "parse_edgetpu_log": "edgetpu",
    "parse_operator_table": "edgetpu",
    "VERDICT_ALL": "edgetpu_compat",
    "VERDICT_BEFORE_POSTPROCESS": "edgetpu_compat",
    "CompatibilityReport": "edgetpu_compat",
    "check_edgetpu_compatibility": "edgetpu_compat",
    "ops_absorbed_by_compiler": "edgetpu_compat",
    "FROZEN_GRAPH_FILENAME": "frozen_graph",
    "FROZEN_INPUT_TENSOR": "frozen_graph",
    "FROZEN_OUTPUT_TENSORS": "frozen_graph",
    "export_frozen_graph": "frozen_graph",
    "load_frozen_graph": "frozen_graph",
    "tflite_io": "tflite_info",
    "tflite_ops": "tflite_info",
    "TFLITE_POSTPROCESS_OP": "postprocess_op",
    "TFLITE_OUTPUT_NAMES": "postprocess_op",
    "make_interpreter": "runner",
    "run_tflite_detector": "runner",
    "SERVING_INPUT": "saved_model",
    "SERVING_OUTPUTS": "saved_model",
    "export_saved_model": "saved_model",
    "convert_float_tflite": "tflite",
    "convert_int8_tflite": "tflite",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

"""Serve the exported detector as MLflow models (``mlflow models serve``, ``mlflow.pyfunc.load_model``).

One idea per module:

* ``images``        -- ``decode_image_bytes``: encoded JPEG/PNG bytes of one request row -> uint8 [H, W, 3];
* ``tflite_pyfunc`` -- ``TFLiteDetectorModel``: the pyfunc model around an int8 / Edge TPU ``.tflite``
  (``ai_edge_litert``, no TensorFlow), one output row per detection (``DETECTION_COLUMNS``);
* ``requirements``  -- ``pinned_requirements``: ``name==installed version`` lines for a logged model;
* ``log_tflite``    -- ``log_tflite_model``: log a ``.tflite`` + ``labels.txt`` as that pyfunc model, from
  code (``tflite_model_code``: MLflow runs it on loading, nothing is pickled);
* ``tf_module``     -- ``detection_module``: the Keras detector as a ``tf.Module`` whose ``__call__`` is a
  batched detection function (TensorFlow);
* ``log_saved_model`` -- ``log_saved_model``: log that module with ``mlflow.tensorflow.log_model``.

Names are imported lazily (PEP 562), so ``common.serving.tflite_pyfunc`` loads without TensorFlow.
"""
import importlib

_EXPORTS = {
    "decode_image_bytes": "images",
    "DETECTION_COLUMNS": "tflite_pyfunc",
    "TFLiteDetectorModel": "tflite_pyfunc",
    "pinned_requirements": "requirements",
    "log_tflite_model": "log_tflite",
    "model_max_detections": "log_tflite",
    "tflite_signature": "log_tflite",
    "detection_module": "tf_module",
    "log_saved_model": "log_saved_model",
    "saved_model_signature": "log_saved_model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    """Import the submodule that defines ``name`` on first access (PEP 562).

    Raises:
      AttributeError: ``name`` is neither a public name nor a submodule of this package.
    """
    module_name = _EXPORTS.get(name)
    if module_name is None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))

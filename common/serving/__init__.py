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
from common.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

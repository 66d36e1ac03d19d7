"""The Keras detector as a ``tf.Module`` whose ``__call__`` detects objects in a batch of uint8 images.

This is the form ``mlflow.tensorflow`` logs and serves: its pyfunc loads the SavedModel with
``tf.saved_model.load`` and calls ``loaded_module(images)`` with a numpy array.
"""
import tensorflow as tf

from edgetpu_detector.export.keras_module import module_for_model
from edgetpu_detector.export.saved_model import check_model_matches_config
from edgetpu_detector.export.serving_fn import DETECTION_KEYS, detect_fn_for
from edgetpu_detector.ssd.postprocess import NMSConfig

MODULE_INPUT = "images"


def detection_module(model, config, nms=NMSConfig()):
    """Wrap a detector in a ``tf.Module`` with a batched ``__call__`` (and the same ``.model`` variables).

    Args:
      model: keras.Model from ``edgetpu_detector.ssd.models.ssd.build_detector(config)`` (weights loaded).
      config: ``DetectorConfig``.
      nms: ``NMSConfig`` of the per-class NMS in the graph (as ``export_saved_model``).

    Returns:
      ``tf.Module`` whose ``__call__`` is a ``tf.function`` with input signature ``images`` uint8
      [B, H, W, 3] (RGB, any size, one size per call; resized bilinearly to ``config.image_size``) and
      outputs a dict: ``detection_boxes`` float32 [B, N, 4] ymin, xmin, ymax, xmax normalized to [0, 1];
      ``detection_classes`` float32 [B, N] label-map ids (1-based); ``detection_scores`` float32 [B, N],
      descending; ``num_detections`` float32 [B] (rows past it are zero); ``N = nms.max_detections``. Per
      image, the same values as the ``serving_default`` signature of ``export_saved_model``.

    Raises:
      ValueError: the model does not match ``config``.
    """
    check_model_matches_config(model, config)
    module = module_for_model(model)
    detect = detect_fn_for(module, config, nms, input_name=MODULE_INPUT, batch_size=None)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name=MODULE_INPUT)])
    def call(images):
        outputs = detect(images)
        return {key: outputs[key] for key in DETECTION_KEYS}

    # An instance attribute: ``module.__call__(images)`` runs it here; tf.saved_model saves it as the
    # ``__call__`` of the object, so the loaded module is callable (``loaded(images)``).
    module.__call__ = call
    return module

"""Log the Keras detector with ``mlflow.tensorflow.log_model`` as a TF2 ``tf.Module`` (``detection_module``).

MLflow writes it with ``tf.saved_model.save`` and its pyfunc calls ``loaded_module(images)``: a uint8
numpy array [B, H, W, 3] in, a dict of detection tensors out (see ``detection_module``). The SavedModel is
self-contained: no project code travels with it.

In process (``mlflow.pyfunc.load_model``, ``mlflow.tensorflow.load_model``) it works; over REST it does not:
MLflow 3.17's ``tensorflow`` pyfunc returns the module's dict of ``EagerTensor`` as is, which its scoring
server cannot JSON-encode (``mlflow models serve`` answers 500, "Object of type EagerTensor is not JSON
serializable"). Serve the TFLite model (``log_tflite_model``) over REST.
"""
import mlflow
from mlflow.models import ModelSignature
import mlflow.tensorflow
from mlflow.types import Schema, TensorSpec
import numpy as np

from edgetpu_detector.export.serving_fn import DETECTION_KEYS
from edgetpu_detector.images.arrays import check_image, resize_image
from edgetpu_detector.mlflow_models.requirements import pinned_requirements
from edgetpu_detector.mlflow_models.tf_module import detection_module
from edgetpu_detector.ssd.postprocess import NMSConfig

SAVED_MODEL_REQUIREMENTS = ("mlflow", "tensorflow", "numpy")


def saved_model_signature(max_detections):
    """The tensor signature: input uint8 [-1, -1, -1, 3], outputs ``DETECTION_KEYS`` float32 of batch -1.

    Args:
      max_detections: N, the number of detection rows per image.

    Returns:
      ``mlflow.models.ModelSignature``.
    """
    n = int(max_detections)
    shapes = {"detection_boxes": (-1, n, 4), "detection_classes": (-1, n), "detection_scores": (-1, n),
              "num_detections": (-1,)}
    outputs = Schema([TensorSpec(np.dtype(np.float32), shapes[key], key) for key in DETECTION_KEYS])
    return ModelSignature(inputs=Schema([TensorSpec(np.dtype(np.uint8), (-1, -1, -1, 3))]), outputs=outputs)


def log_saved_model(model, config, nms, name, example_image, extra_pip_requirements=(), **log_model_kwargs):
    """Log the detector as an MLflow ``tensorflow`` model (TF2 ``tf.Module``) in the active run (or a new one).

    Args:
      model: keras.Model from ``edgetpu_detector.ssd.models.ssd.build_detector(config)`` (weights loaded).
      config: ``DetectorConfig``.
      nms: ``NMSConfig`` of the graph's NMS (None: ``NMSConfig()``).
      name: the model's name in the run (``runs:/<run id>/<name>``).
      example_image: uint8 [H, W, 3] RGB, a real image; resized to ``config.image_size`` (what the model sees
        anyway, and a small JSON) and saved as the input example [1, S, S, 3]. MLflow serves it once
        through the logged model to check that it loads and predicts.
      extra_pip_requirements: more ``name==version`` lines, added to ``SAVED_MODEL_REQUIREMENTS``.
      log_model_kwargs: passed on to ``mlflow.tensorflow.log_model``.

    Returns:
      ``mlflow.models.model.ModelInfo``. ``mlflow.pyfunc.load_model(...).predict(images)`` takes uint8
      [B, H, W, 3] and returns the dict of ``detection_module`` (TensorFlow tensors; ``.numpy()`` them).

    Raises:
      ValueError / TypeError: the model does not match ``config``, or a bad ``example_image``.
    """
    nms = nms or NMSConfig()
    size = int(config.image_size)
    example = resize_image(check_image(example_image, "example_image"), size, size)[np.newaxis]
    return mlflow.tensorflow.log_model(
        detection_module(model, config, nms),
        name=name,
        signature=saved_model_signature(nms.max_detections),
        input_example=example,
        pip_requirements=pinned_requirements(*SAVED_MODEL_REQUIREMENTS) + list(extra_pip_requirements),
        **log_model_kwargs,
    )

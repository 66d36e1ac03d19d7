"""Log a convert run's exports as MLflow models: the Edge TPU-ready TFLite (pyfunc) and the SavedModel.

Both get a real image of the test split as input example (MLflow checks that each loads and predicts on it).
"""
from dataclasses import dataclass
import io
from pathlib import Path

from PIL import Image

from edgetpu_detector.export.calibration import representative_images
from edgetpu_detector.mlflow_models.log_saved_model import log_saved_model
from edgetpu_detector.mlflow_models.log_tflite import log_tflite_model
from edgetpu_detector.ssd.checkpoint import load_trained_detector

EDGETPU_MODEL_NAME = "edgetpu_detector"  # the model to serve and register
SAVED_MODEL_NAME = "saved_model"


@dataclass
class ServableModels:
    """``ModelInfo`` of each logged model (``model_uri`` is ``models:/<model id>``)."""

    edgetpu: object
    saved_model: object


def log_servable_models(result, model_dir, example_record):
    """Log ``EDGETPU_MODEL_NAME`` and ``SAVED_MODEL_NAME`` in the active run.

    The served TFLite model is the compiled ``*_edgetpu.tflite`` when the compiler produced one (with the
    int8 model as its CPU fallback), else the int8 model; its default score threshold is the deployment's.

    Args:
      result: ``edgetpu_detector.export.convert.ConvertResult``.
      model_dir: the retrain run's ``model/`` folder (for the Keras detector behind the SavedModel).
      example_record: TFRecord whose first image is the input example (the test split).

    Returns:
      ``ServableModels``.

    Raises:
      ValueError: ``example_record`` holds no image.
    """
    (example,) = representative_images(example_record, 1)
    buffer = io.BytesIO()
    Image.fromarray(example).save(buffer, format="JPEG", quality=95)
    compiled = result.edgetpu_model_path
    deployment = result.deployment
    edgetpu = log_tflite_model(compiled or result.int8_tflite_path, result.labels_path, EDGETPU_MODEL_NAME,
                               buffer.getvalue(), score_threshold=deployment.score_threshold,
                               max_detections=deployment.nms.max_detections,
                               cpu_tflite_path=result.int8_tflite_path if compiled else None)
    model, config = load_trained_detector(Path(model_dir))
    saved = log_saved_model(model, config, deployment.nms, SAVED_MODEL_NAME, example)
    return ServableModels(edgetpu=edgetpu, saved_model=saved)

"""The models-from-code entry of a logged ``TFLiteDetectorModel`` (``log_tflite_model``).

MLflow copies this file into the logged model and runs it on loading (no pickle); the settings arrive as the
model's ``model_config`` in ``TFLiteDetectorModel.load_context``.
"""
import mlflow.models

from edgetpu_detector.mlflow_models.tflite_pyfunc import TFLiteDetectorModel

mlflow.models.set_model(TFLiteDetectorModel())

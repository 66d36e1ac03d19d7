"""The ``Detector`` interface shared by every model form (TFLite, SavedModel, Keras).

A detector takes one uint8 [H, W, 3] RGB image of any size (resized to its input by the detector itself, so
all forms see the same pixels when given an image of the input size) and returns ``Detections`` with
label-map ids. Evaluation, prediction and the served MLflow model all go through it.
"""
from typing import Protocol

from edgetpu_detector.inference.detections import Detections


class Detector(Protocol):
    """A loaded model.

    Attributes:
      kind: ``"tflite_cpu"``, ``"tflite_edgetpu"``, ``"saved_model"`` or ``"keras"``.
      notice: one line for the user (e.g. the Edge TPU runtime is absent and the CPU runs instead), or "".
    """

    kind: str
    notice: str

    def detect(self, image) -> Detections:
        """Detections of one uint8 [H, W, 3] RGB image (see the module docstring)."""

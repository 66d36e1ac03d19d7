"""A SavedModel written by ``edgetpu_detector.export.saved_model`` as a ``Detector`` (TensorFlow)."""
from pathlib import Path

import numpy as np
import tensorflow as tf

from edgetpu_detector.images.arrays import check_image
from edgetpu_detector.inference.detections import Detections


def detections_from_outputs(outputs, index=0):
    """``Detections`` of image ``index`` of the TF OD API detection dict (``detection_boxes`` [B, N, 4],
    ``detection_classes`` label-map ids [B, N], ``detection_scores`` [B, N], ``num_detections`` [B]),
    trimmed to its ``num_detections`` rows."""
    n = int(np.asarray(outputs["num_detections"]).reshape(-1)[index])
    return Detections(np.asarray(outputs["detection_boxes"])[index, :n],
                      np.asarray(outputs["detection_classes"])[index, :n],
                      np.asarray(outputs["detection_scores"])[index, :n])


class SavedModelDetector:
    """Detect objects with the ``serving_default`` signature of a SavedModel folder (uint8 image of any size
    in, the model resizes it).

    Raises:
      ValueError: the folder holds no ``saved_model.pb``.
    """

    kind = "saved_model"
    notice = ""

    def __init__(self, export_dir):
        export_dir = Path(export_dir)
        if not (export_dir / "saved_model.pb").is_file():
            raise ValueError(f"{export_dir} is a folder without saved_model.pb: not a SavedModel")
        self._serve = tf.saved_model.load(str(export_dir)).signatures["serving_default"]

    def detect(self, image):
        """``Detections`` of one uint8 [H, W, 3] RGB image."""
        image = check_image(image)
        return detections_from_outputs(self._serve(input_tensor=tf.convert_to_tensor(image[np.newaxis])))

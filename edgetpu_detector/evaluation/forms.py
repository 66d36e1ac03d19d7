"""The forms of a detector that the evaluate step measures, each as a ``Detector`` loaded from what the convert
step exported -- the files that ship -- plus the Keras model as trained, for reference.

Forms, in headline order: ``int8_tflite`` (``model_int8.tflite``, the deployed model), ``float_tflite``,
``saved_model`` (its ``serving_default``), ``keras`` (the retrain step's weights with the deployed
post-processing of ``deployment.json``). Each is given the same uint8 [S, S, 3] images, already resized to the
model's input by ``edgetpu_detector.evaluation.dataset``, so every form sees identical pixels.
"""
from pathlib import Path

from edgetpu_detector.export.convert import FLOAT_TFLITE, INT8_TFLITE, SAVED_MODEL_DIR
from edgetpu_detector.export.deployment import Deployment
from edgetpu_detector.inference.keras_detector import KerasDetector
from edgetpu_detector.inference.saved_model_detector import SavedModelDetector
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.checkpoint import load_trained_detector

FORMS = ("int8_tflite", "float_tflite", "saved_model", "keras")
DEPLOYED_FORM = "int8_tflite"


def parse_forms(text):
    """``"keras,int8_tflite"`` -> ``("int8_tflite", "keras")`` (headline order); ``"all"`` -> every form.

    Raises:
      ValueError: an unknown form name.
    """
    names = FORMS if text.strip().lower() == "all" else tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FORMS]
    if unknown or not names:
        raise ValueError(f"unknown model form(s) {unknown or text!r}; expected a comma-separated subset of "
                         f"{', '.join(FORMS)} or 'all'")
    return tuple(f for f in FORMS if f in names)


def load_forms(export_dir, model_dir, forms=FORMS):
    """The detectors of the requested forms, in ``FORMS`` order.

    Args:
      export_dir: the convert step's ``export/`` folder (``model_int8.tflite``, ``model_float.tflite``,
        ``saved_model/``, ``deployment.json``).
      model_dir: the retrain step's ``model/`` folder (for ``keras``).
      forms: names from ``FORMS``.

    Returns:
      dict form name -> ``Detector``.

    Raises:
      FileNotFoundError: a missing export (named).
    """
    export_dir = Path(export_dir)
    detectors = {}
    for form in (f for f in FORMS if f in forms):
        if form == "int8_tflite":
            detectors[form] = TFLiteDetector(export_dir / INT8_TFLITE)
        elif form == "float_tflite":
            detectors[form] = TFLiteDetector(export_dir / FLOAT_TFLITE)
        elif form == "saved_model":
            detectors[form] = SavedModelDetector(export_dir / SAVED_MODEL_DIR)
        else:
            model, config = load_trained_detector(model_dir)
            detectors[form] = KerasDetector(model, config, Deployment.read(export_dir).nms)
    return detectors

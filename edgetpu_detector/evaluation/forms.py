"""Every exported form of a detector as a ``Detector``, for like-for-like evaluation.

Forms: ``keras`` (the trained weights), ``saved_model`` (its ``serving_default`` signature),
``float_tflite`` and ``int8_tflite`` (both ending in ``TFLite_Detection_PostProcess``). Each is given the
same uint8 [S, S, 3] images, already resized to the model's input by
``edgetpu_detector.evaluation.dataset``, so every form sees identical pixels.
"""
from pathlib import Path

from edgetpu_detector.export.saved_model import export_saved_model
from edgetpu_detector.export.tflite_converter import convert_float_tflite, convert_int8_tflite
from edgetpu_detector.inference.keras_detector import KerasDetector
from edgetpu_detector.inference.saved_model_detector import SavedModelDetector
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.postprocess import NMSConfig

FORMS = ("keras", "saved_model", "float_tflite", "int8_tflite")
# Evaluation settings: score threshold 0 and up to 100 detections (COCO's maxDets), for every form.
EVAL_NMS = NMSConfig(score_threshold=0.0, iou_threshold=0.6, max_detections=100, max_detections_per_class=100)


def parse_forms(text):
    """``"keras,int8_tflite"`` -> ``("keras", "int8_tflite")``; ``"all"`` -> every form.

    Raises:
      ValueError: an unknown form name.
    """
    names = FORMS if text.strip().lower() == "all" else tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FORMS]
    if unknown or not names:
        raise ValueError(f"unknown model form(s) {unknown or text!r}; expected a comma-separated subset of "
                         f"{', '.join(FORMS)} or 'all'")
    return names


def build_detectors(model, config, forms, work_dir, calibration_images=None, nms=EVAL_NMS):
    """Export ``model`` in the requested forms (with evaluation NMS settings) and return their detectors.

    The TFLite forms are converted here with ``nms`` (score threshold 0, 100 detections) rather than taken
    from the convert step, whose models keep the deployment thresholds; the body of the int8 model is the
    same as the deployed one when ``calibration_images`` are the same (the first N training images).

    Args:
      model, config: the Keras detector and its DetectorConfig.
      forms: iterable of names from ``FORMS``.
      work_dir: folder for the exported files.
      calibration_images: list of uint8 [H, W, 3] images, required for ``int8_tflite``.
      nms: NMSConfig of every form.

    Returns:
      dict form name -> ``Detector``, in ``FORMS`` order.

    Raises:
      ValueError: ``int8_tflite`` requested without calibration images.
    """
    work_dir = Path(work_dir)
    detectors = {}
    for form in (f for f in FORMS if f in forms):
        if form == "keras":
            detectors[form] = KerasDetector(model, config, nms)
        elif form == "saved_model":
            detectors[form] = SavedModelDetector(export_saved_model(model, config, work_dir / "saved_model", nms))
        elif form == "float_tflite":
            detectors[form] = TFLiteDetector(convert_float_tflite(model, config, work_dir / "eval_float.tflite", nms))
        else:
            if not calibration_images:
                raise ValueError("int8_tflite evaluation needs calibration images")
            detectors[form] = TFLiteDetector(convert_int8_tflite(model, config, calibration_images,
                                                                 work_dir / "eval_int8.tflite", nms))
    return detectors

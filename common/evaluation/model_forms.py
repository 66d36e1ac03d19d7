"""One detection interface over every exported form of a detector, for like-for-like evaluation.

Each form's detect function takes the same input, a uint8 [S, S, 3] RGB image already resized to the model's
input size by ``common.input_pipeline.evaluation_dataset``, so that every form sees identical pixels, and
returns a dict of numpy arrays: ``boxes`` float32 [M, 4] ymin, xmin, ymax, xmax normalized to [0, 1],
``classes`` int32 [M] label-map ids (1-based, whatever the form's own convention: the TFLite op's classes
are 0-based) and ``scores`` float32 [M], descending.

Forms: ``keras`` (the trained weights), ``saved_model`` (its ``serving_default`` signature),
``float_tflite`` and ``int8_tflite`` (both ending in ``TFLite_Detection_PostProcess``).
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.export import (convert_float_tflite, convert_int8_tflite, export_saved_model, make_interpreter,
                           run_tflite_detector)
from common.postprocess import NMSConfig, postprocess

FORMS = ("keras", "saved_model", "float_tflite", "int8_tflite")
# Evaluation settings: score threshold 0 and up to 100 detections (COCO's maxDets), for every form.
EVAL_NMS = NMSConfig(score_threshold=0.0, iou_threshold=0.6, max_detections=100, max_detections_per_class=100)


def _as_uint8(image):
    """uint8 [1, S, S, 3] tensor from a uint8 (or integer-valued float) [S, S, 3] image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return tf.convert_to_tensor(image[np.newaxis])


def _trimmed(out, class_offset=0):
    n = int(np.asarray(out["num_detections"]).reshape(-1)[0])
    return {"boxes": np.asarray(out["detection_boxes"])[0, :n],
            "classes": np.asarray(out["detection_classes"])[0, :n].astype(np.int32) + class_offset,
            "scores": np.asarray(out["detection_scores"])[0, :n]}


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


def keras_detect_fn(model, config, nms=EVAL_NMS):
    """Detect function of the Keras detector (float32 pixels, per-class NMS of ``common.postprocess``)."""
    anchors = tf.constant(config.generate_anchors())
    size = config.image_size

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8)])
    def detect(images):
        box_encodings, class_logits = model(tf.cast(images, tf.float32), training=False)
        return postprocess(box_encodings, class_logits, anchors, config.box_coder, nms)

    return lambda image: _trimmed(detect(_as_uint8(image)))


def saved_model_detect_fn(export_dir):
    """Detect function of a SavedModel written by ``common.export.export_saved_model``."""
    serve = tf.saved_model.load(str(export_dir)).signatures["serving_default"]

    return lambda image: _trimmed(serve(input_tensor=_as_uint8(image)))


def tflite_detect_fn(path, num_threads=None):
    """Detect function of a detection ``.tflite`` (boxes clipped to [0, 1], classes shifted to label-map ids)."""
    interpreter = make_interpreter(path, num_threads=num_threads)

    def fn(image):
        out = run_tflite_detector(interpreter, _as_uint8(image).numpy()[0])
        return {"boxes": out["boxes"], "classes": out["classes"] + 1, "scores": out["scores"]}

    return fn


def build_detect_fns(model, config, forms, work_dir, calibration_images=None, nms=EVAL_NMS):
    """Export ``model`` in the requested forms (with evaluation NMS settings) and return their detect functions.

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
      dict form name -> ``fn(uint8 [S, S, 3]) -> dict`` (see the module docstring), in ``FORMS`` order.

    Raises:
      ValueError: ``int8_tflite`` requested without calibration images.
    """
    work_dir = Path(work_dir)
    fns = {}
    for form in (f for f in FORMS if f in forms):
        if form == "keras":
            fns[form] = keras_detect_fn(model, config, nms)
        elif form == "saved_model":
            fns[form] = saved_model_detect_fn(export_saved_model(model, config, work_dir / "saved_model", nms))
        elif form == "float_tflite":
            fns[form] = tflite_detect_fn(convert_float_tflite(model, config, work_dir / "eval_float.tflite", nms))
        else:
            if not calibration_images:
                raise ValueError("int8_tflite evaluation needs calibration images")
            path = convert_int8_tflite(model, config, calibration_images, work_dir / "eval_int8.tflite", nms)
            fns[form] = tflite_detect_fn(path)
    return fns

"""TF2 SavedModel export with the TF Object Detection API's serving signature.

Source: TF OD API ``exporter_lib_v2.py`` (``input_type=image_tensor``): signature ``serving_default`` with
input ``input_tensor`` uint8 [1, None, None, 3] and outputs ``detection_boxes``, ``detection_classes``,
``detection_scores``, ``num_detections``, ``raw_detection_boxes``, ``raw_detection_scores``.
"""
from pathlib import Path

import tensorflow as tf

from edgetpu_detector.core.atomic import atomic_directory
from edgetpu_detector.export.keras_module import module_for_model
from edgetpu_detector.export.serving_fn import DETECTION_KEYS, RAW_KEYS, detect_fn_for
from edgetpu_detector.ssd.postprocess import NMSConfig

SERVING_INPUT = "input_tensor"
SERVING_OUTPUTS = DETECTION_KEYS + RAW_KEYS


def export_saved_model(model, config, export_dir, nms=NMSConfig()):
    """Write a SavedModel whose ``serving_default`` signature detects objects in one uint8 image.

    Args:
      model: keras.Model from ``edgetpu_detector.ssd.models.ssd.build_detector(config)`` (weights loaded).
      config: ``DetectorConfig``.
      export_dir: output folder; written to a temporary sibling first and renamed into place (an
        existing folder is replaced only once the new export is complete).
      nms: ``NMSConfig`` for the per-class NMS inside the graph.

    Signature ``serving_default``:
      input ``input_tensor``: uint8 [1, None, None, 3] RGB, any size (resized bilinearly to
        ``config.image_size`` inside);
      outputs (see ``edgetpu_detector.export.serving_fn.detect_fn_for``): ``detection_boxes`` float32 [1, N, 4]
        ymin, xmin, ymax, xmax normalized; ``detection_classes`` float32 [1, N] label-map ids (1-based);
        ``detection_scores`` float32 [1, N]; ``num_detections`` float32 [1]; ``raw_detection_boxes``
        float32 [1, A, 4]; ``raw_detection_scores`` float32 [1, A, num_classes].

    Returns:
      ``Path`` of ``export_dir``.

    Raises:
      ValueError: the model's input size or anchor count does not match ``config``.
    """
    check_model_matches_config(model, config)
    module = module_for_model(model)
    module.detect = detect_fn_for(module, config, nms, input_name=SERVING_INPUT)
    export_dir = Path(export_dir)
    with atomic_directory(export_dir) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.detect.get_concrete_function()})
    return export_dir


def check_model_matches_config(model, config):
    """Raise ValueError unless ``model`` takes [B, S, S, 3] with S = ``config.image_size`` and predicts one
    box per anchor of ``config``."""
    size = int(config.image_size)
    in_shape = tuple(model.inputs[0].shape)
    if in_shape[1:] != (size, size, 3):
        raise ValueError(f"model input shape {in_shape} does not match config.image_size={size}")
    num_anchors = len(config.generate_anchors())
    box_shape = tuple(model.outputs[0].shape)
    cls_shape = tuple(model.outputs[1].shape)
    if box_shape[1:] != (num_anchors, 4) or cls_shape[1:] != (num_anchors, config.num_classes + 1):
        raise ValueError(f"model outputs {box_shape}, {cls_shape} do not match config "
                         f"({num_anchors} anchors, {config.num_classes} classes)")

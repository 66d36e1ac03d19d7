"""Float and full-integer (int8) TFLite detectors ending in ``TFLite_Detection_PostProcess``.

Sources: the TF Object Detection API's ``export_tflite_graph_lib_tf2.py`` (custom post-processing op via
``experimental_implements``), TensorFlow's post-training integer quantization guide
(``optimizations=[DEFAULT]``, ``representative_dataset``, ``TFLITE_BUILTINS_INT8``, uint8 input), and the
Coral Edge TPU model requirements (static shapes, batch 1, int8 tensors, custom post-processing on CPU).

The converted model:

* input 0: [1, S, S, 3] RGB pixels 0..255 -- float32 (float model) or uint8 with scale ~1, zero point 0
  (int8 model, then ``QUANTIZE`` to int8); S = ``config.image_size``; resize images before feeding;
* body: the detector, then ``LOGISTIC`` on the class logits (scores incl. background column);
* ``TFLite_Detection_PostProcess`` fed (box encodings, scores, anchors constant float32 [A, 4]);
  in the int8 model the converter puts a ``DEQUANTIZE`` before each of the op's two tensor inputs;
* outputs: boxes, classes, scores, count in pycoral's order, named and keyed as
  ``edgetpu_detector.tflite.detection_postprocess`` declares.

TFLite Model Metadata (``edgetpu_detector.tflite.metadata``) is added by the convert step, which knows the
labels.
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

from edgetpu_detector.core.atomic import atomic_write_bytes
from edgetpu_detector.export.keras_module import module_for_model
from edgetpu_detector.export.postprocess_op import PostProcessAttrs, postprocess_op_fn
from edgetpu_detector.export.saved_model import check_model_matches_config
from edgetpu_detector.images.arrays import check_image, resize_image
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.detection_postprocess import OUTPUT_NAMES, POSTPROCESS_OP, SIGNATURE_KEYS
from edgetpu_detector.tflite.flatbuffer import set_outputs_to_op

TFLITE_INPUT_NAME = "images"


def _converter(model, config, nms):
    """A ``TFLiteConverter`` for detector + sigmoid + custom post-processing op at batch 1, static shape."""
    check_model_matches_config(model, config)
    attrs = PostProcessAttrs.from_config(config, nms)
    size = int(config.image_size)
    anchors = tf.constant(config.generate_anchors(), tf.float32)
    module = module_for_model(model)
    module.postprocess = postprocess_op_fn(attrs)

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32, name=TFLITE_INPUT_NAME)])
    def detect(images):
        box_encodings, class_logits = module.model(images, training=False)
        return module.postprocess(box_encodings, tf.sigmoid(class_logits), anchors)

    module.detect = detect
    converter = tf.lite.TFLiteConverter.from_concrete_functions([detect.get_concrete_function()], module)
    converter.allow_custom_ops = True
    # Freeze weights into constants (resource variables would block folding and quantization).
    converter.experimental_enable_resource_variables = False
    return converter


def _finish(tflite_bytes, output_path):
    """Put the custom op's outputs first-to-last as the model outputs and write the file atomically."""
    tflite_bytes = set_outputs_to_op(tflite_bytes, POSTPROCESS_OP, OUTPUT_NAMES, SIGNATURE_KEYS)
    return atomic_write_bytes(Path(output_path), tflite_bytes)


def convert_float_tflite(model, config, output_path, nms=NMSConfig()):
    """Convert the detector to a float32 ``.tflite`` ending in ``TFLite_Detection_PostProcess``.

    Args:
      model: keras.Model from ``build_detector(config)``.
      config: ``DetectorConfig`` (anchors, box coder scales, number of classes).
      output_path: ``.tflite`` file to write (atomically; parent created).
      nms: ``NMSConfig`` of the op: ``max_detections``, ``nms_score_threshold``,
        ``iou_threshold`` -> ``nms_iou_threshold``, ``use_regular_nms``, ``max_classes_per_detection``.

    Returns:
      ``Path`` of the written file. Input float32 [1, S, S, 3] pixels 0..255; outputs as in the module doc.

    Raises:
      ValueError: model/config mismatch or bad NMS values.
    """
    converter = _converter(model, config, nms)
    return _finish(converter.convert(), output_path)


def convert_int8_tflite(model, config, representative_images, output_path, nms=NMSConfig()):
    """Convert the detector with full-integer post-training quantization, for the Edge TPU.

    Every op of the detector body is an int8 builtin; the input is uint8 with scale 1 and zero point 0
    (raw pixels; two corner pixels of each calibration image are set to 0 and 255 to pin that range); ``DEQUANTIZE`` ops feed the float ``TFLite_Detection_PostProcess`` op, whose float outputs are
    the model outputs (order in the module doc).

    Args:
      model: keras.Model from ``build_detector(config)``.
      config: ``DetectorConfig``.
      representative_images: iterable of uint8 [H, W, 3] RGB images (any size; resized bilinearly to
        S x S), at least one; used to calibrate activation ranges (the TF guide suggests ~100).
      output_path: ``.tflite`` file to write (atomically).
      nms: as in ``convert_float_tflite``.

    Returns:
      ``Path`` of the written file.

    Raises:
      ValueError: no representative image, bad image shape, model/config mismatch.
      TypeError: an image is not uint8.
    """
    size = int(config.image_size)
    images = [resize_image(check_image(im, "representative image"), size, size) for im in representative_images]
    if not images:
        raise ValueError("convert_int8_tflite needs at least one representative image")

    def representative_dataset():
        for image in images:
            pixels = image[np.newaxis].astype(np.float32)
            # Pin the observed input range to exactly [0, 255] so that the uint8 input gets scale 1 and
            # zero point 0: raw pixels, as pycoral and run_tflite_detector feed them.
            pixels[0, 0, 0, :], pixels[0, 0, -1, :] = 0.0, 255.0
            yield [pixels]

    converter = _converter(model, config, nms)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    return _finish(converter.convert(), output_path)

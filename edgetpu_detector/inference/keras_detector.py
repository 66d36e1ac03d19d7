"""A Keras detector in memory (weights as trained) as a ``Detector``: the float reference of every export."""
import numpy as np
import tensorflow as tf

from edgetpu_detector.images.arrays import check_image
from edgetpu_detector.inference.saved_model_detector import detections_from_outputs
from edgetpu_detector.ssd.image_resizer import resize_to_input
from edgetpu_detector.ssd.postprocess import NMSConfig, postprocess


class KerasDetector:
    """Detect objects with a Keras detector and per-class NMS (``edgetpu_detector.ssd.postprocess``).

    Args:
      model: keras.Model from ``build_detector(config)``.
      config: its ``DetectorConfig``.
      nms: ``NMSConfig``.
    """

    kind = "keras"
    notice = ""

    def __init__(self, model, config, nms=NMSConfig()):
        anchors = tf.constant(config.generate_anchors())
        size = config.image_size

        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
        def detect(images):
            pixels = resize_to_input(images[0], size)[tf.newaxis]
            box_encodings, class_logits = model(pixels, training=False)
            return postprocess(box_encodings, class_logits, anchors, config.box_coder, nms)

        self._detect = detect

    def detect(self, image):
        """``Detections`` of one uint8 [H, W, 3] RGB image (resized to the input with TensorFlow, bilinear)."""
        return detections_from_outputs(self._detect(tf.convert_to_tensor(check_image(image)[np.newaxis])))

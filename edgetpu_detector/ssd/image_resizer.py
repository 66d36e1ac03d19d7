"""The detector's image resizer: any image to the model's square input, as float32 pixels.

The TF Object Detection API's ``fixed_shape_resizer`` (used by every SSD-MobileNet config): bilinear, aspect
ratio not kept, so normalized boxes are unchanged. The model normalizes the pixels itself
(``edgetpu_detector.ssd.models.ssd``).
"""
import tensorflow as tf


def resize_to_input(image, image_size):
    """uint8 (or float) [H, W, 3] -> float32 [S, S, 3] pixels in [0, 255], S = ``image_size``."""
    image = tf.image.resize(tf.cast(image, tf.float32), [image_size, image_size], method="bilinear")
    return tf.clip_by_value(image, 0.0, 255.0)

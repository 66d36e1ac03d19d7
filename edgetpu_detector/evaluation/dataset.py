"""The ``tf.data`` evaluation pipeline over a TFRecord split: the model input of every image with its ground
truth."""
import tensorflow as tf

from edgetpu_detector.ssd.image_resizer import resize_to_input
from edgetpu_detector.tfrecord.reader import parse_example


def evaluation_dataset(record_paths, image_size):
    """Unshuffled, unbatched evaluation pipeline keeping the ground truth.

    Returns:
      tf.data.Dataset of dicts: ``image`` uint8 [S, S, 3] (the model input, resized once here so that
      every exported form of a model sees the same pixels; uint8 because that is the int8 TFLite's input
      type, and a lossless input for the float forms), ``original`` uint8
      [H, W, 3], ``boxes`` float32 [N, 4] ymin, xmin, ymax, xmax normalized, ``classes`` int32 [N]
      label-map ids, ``difficult`` bool [N], ``filename`` string, ``height`` and ``width`` int32 pixels.
    """
    def prepare(serialized):
        example = parse_example(serialized)
        image = tf.cast(tf.round(resize_to_input(example["image"], image_size)), tf.uint8)
        return {"image": image, "original": example["image"],
                "boxes": example["boxes"], "classes": example["classes"], "difficult": example["difficult"],
                "filename": example["filename"],
                "height": example["height"], "width": example["width"]}

    paths = [record_paths] if isinstance(record_paths, str) else list(record_paths)
    return tf.data.TFRecordDataset(paths).map(prepare, num_parallel_calls=tf.data.AUTOTUNE,
                                              deterministic=True)

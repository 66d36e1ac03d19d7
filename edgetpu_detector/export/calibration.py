"""The representative dataset of post-training quantization: the first images of the training split.

Source: TensorFlow's post-training integer quantization guide (a ``representative_dataset`` of about 100
typical inputs calibrates the activation ranges).
"""
import itertools

from edgetpu_detector.tfrecord.reader import read_examples


def representative_images(record_path, count):
    """The first ``count`` images (uint8 [H, W, 3] RGB, original sizes) of a TFRecord file, as a list.

    Raises:
      ValueError: the file holds no image.
    """
    images = [example["image"] for example in itertools.islice(read_examples(record_path), max(count, 1))]
    if not images:
        raise ValueError(f"{record_path} holds no images to calibrate the int8 model with")
    return images

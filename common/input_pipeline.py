"""``tf.data`` input pipelines over TF Object Detection API TFRecords, for training and evaluation.

Images are resized to the model's square input without keeping the aspect ratio (the TF OD API's
``fixed_shape_resizer``, used by every SSD-MobileNet config), so normalized boxes are unchanged.
"""
from dataclasses import dataclass

import tensorflow as tf

from common.ssd_random_crop import ssd_random_crop
from common.target_assigner import assign_targets
from common.tfrecord import parse_example


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation: SSD random crop (``common.ssd_random_crop``), horizontal flip and
    photometric jitter (brightness, contrast, saturation)."""

    horizontal_flip: bool = True
    photometric: bool = True
    random_crop: bool = True
    max_brightness_delta: float = 32.0  # in pixel units, on [0, 255]
    contrast_range: tuple = (0.8, 1.25)
    saturation_range: tuple = (0.8, 1.25)


def resize_image(image, image_size):
    """uint8 [H, W, 3] -> float32 [S, S, 3] pixels in [0, 255] (bilinear, aspect ratio not kept)."""
    image = tf.image.resize(tf.cast(image, tf.float32), [image_size, image_size], method="bilinear")
    return tf.clip_by_value(image, 0.0, 255.0)


def random_horizontal_flip(image, boxes, seed=None):
    """Flip an image [S, S, 3] and its boxes [N, 4] (ymin, xmin, ymax, xmax normalized) with probability 0.5."""
    flip = tf.random.uniform([], seed=seed) < 0.5
    image = tf.cond(flip, lambda: tf.image.flip_left_right(image), lambda: image)
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=1)
    flipped = tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=1)
    boxes = tf.cond(flip, lambda: flipped, lambda: boxes)
    return image, boxes


def photometric_jitter(image, config):
    """Random brightness, contrast and saturation on float32 [S, S, 3] pixels in [0, 255]."""
    image = image + tf.random.uniform([], -config.max_brightness_delta, config.max_brightness_delta)
    image = tf.image.random_contrast(image, *config.contrast_range)
    image = tf.image.random_saturation(image, *config.saturation_range)
    return tf.clip_by_value(image, 0.0, 255.0)


def training_dataset(record_paths, detector_config, batch_size, seed=0, augment=AugmentConfig(),
                     shuffle_buffer=512):
    """Infinite, shuffled, batched training pipeline with SSD targets.

    Args:
      record_paths: str or list of str, TFRecord files in the TF OD API schema.
      detector_config: ``common.models.DetectorConfig`` (input size, anchors, box coder).
      batch_size: int.
      seed: int, shuffling and augmentation seed.
      augment: AugmentConfig, or None for no augmentation.

    Returns:
      tf.data.Dataset of ``(images float32 [B, S, S, 3] in [0, 255],
      {"box_targets": float32 [B, A, 4], "class_targets": int32 [B, A]})``.
    """
    anchors = tf.constant(detector_config.generate_anchors())
    box_coder = detector_config.box_coder
    size = detector_config.image_size

    def prepare(serialized):
        example = parse_example(serialized)
        image, boxes, classes = example["image"], example["boxes"], example["classes"]
        if augment is not None and augment.random_crop:
            image, boxes, classes = ssd_random_crop(image, boxes, classes)
        image = resize_image(image, size)
        if augment is not None:
            if augment.horizontal_flip:
                image, boxes = random_horizontal_flip(image, boxes)
            if augment.photometric:
                image = photometric_jitter(image, augment)
        box_targets, class_targets = assign_targets(boxes, classes, anchors, box_coder)
        return image, {"box_targets": box_targets, "class_targets": class_targets}

    paths = [record_paths] if isinstance(record_paths, str) else list(record_paths)
    ds = tf.data.TFRecordDataset(paths)
    ds = ds.cache().shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(record_paths, image_size):
    """Unshuffled, unbatched evaluation pipeline keeping the ground truth.

    Returns:
      tf.data.Dataset of dicts: ``image`` uint8 [S, S, 3] (the model input, resized once here so that
      every exported form of a model sees the same pixels; uint8 because that is the int8 TFLite's input
      type, and a lossless input for the float forms), ``original`` uint8
      [H, W, 3], ``boxes`` float32 [N, 4] ymin, xmin, ymax, xmax normalized, ``classes`` int32 [N]
      label-map ids, ``filename`` string, ``height`` and ``width`` int32 pixels.
    """
    def prepare(serialized):
        example = parse_example(serialized)
        image = tf.cast(tf.round(resize_image(example["image"], image_size)), tf.uint8)
        return {"image": image, "original": example["image"],
                "boxes": example["boxes"], "classes": example["classes"], "filename": example["filename"],
                "height": example["height"], "width": example["width"]}

    paths = [record_paths] if isinstance(record_paths, str) else list(record_paths)
    return tf.data.TFRecordDataset(paths).map(prepare, num_parallel_calls=tf.data.AUTOTUNE,
                                              deterministic=True)

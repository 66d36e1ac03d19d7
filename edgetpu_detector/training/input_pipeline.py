"""The ``tf.data`` training pipeline over TF Object Detection API TFRecords: decode, augment, resize, SSD targets."""
import tensorflow as tf

from edgetpu_detector.ssd.image_resizer import resize_to_input
from edgetpu_detector.ssd.target_assigner import assign_targets
from edgetpu_detector.tfrecord.reader import parse_example
from edgetpu_detector.training.augment import AugmentConfig, photometric_jitter, random_horizontal_flip
from edgetpu_detector.training.random_crop import ssd_random_crop


def training_dataset(record_paths, detector_config, batch_size, seed=0, augment=AugmentConfig(),
                     shuffle_buffer=512, start_step=0):
    """Infinite, shuffled, batched training pipeline with SSD targets.

    Args:
      record_paths: str or list of str, TFRecord files in the TF OD API schema.
      detector_config: ``edgetpu_detector.ssd.models.ssd.DetectorConfig`` (input size, anchors, box coder).
      batch_size: int.
      seed: int, shuffling and augmentation seed: the same seed gives the same batches, bit for bit (the
        shuffle is seeded; each example's augmentation draws from a stateless seed of (seed, its position)).
      augment: AugmentConfig, or None for no augmentation.
      start_step: int, batches to pass over first: a run resumed at step k reads the batches an uninterrupted
        run reads from step k on (the skipped records are only counted, not decoded).

    Returns:
      tf.data.Dataset of ``(images float32 [B, S, S, 3] in [0, 255],
      {"box_targets": float32 [B, A, 4], "class_targets": int32 [B, A]})``.
    """
    anchors = tf.constant(detector_config.generate_anchors())
    box_coder = detector_config.box_coder
    size = detector_config.image_size

    def prepare(index, serialized):
        # The example's stateless seed: the training seed and its position in the shuffled, repeated stream.
        crop_seed, flip_seed, photometric_seed = tf.unstack(tf.random.split(tf.stack([seed64, index]), 3))
        example = parse_example(serialized)
        image, boxes, classes = example["image"], example["boxes"], example["classes"]
        if augment is not None and augment.random_crop:
            image, boxes, classes = ssd_random_crop(image, boxes, classes, crop_seed)
        image = resize_to_input(image, size)
        if augment is not None:
            if augment.horizontal_flip:
                image, boxes = random_horizontal_flip(image, boxes, flip_seed)
            if augment.photometric:
                image = photometric_jitter(image, augment, photometric_seed)
        box_targets, class_targets = assign_targets(boxes, classes, anchors, box_coder)
        return image, {"box_targets": box_targets, "class_targets": class_targets}

    seed64 = tf.constant(seed, tf.int64)
    paths = [record_paths] if isinstance(record_paths, str) else list(record_paths)
    ds = tf.data.TFRecordDataset(paths)
    ds = ds.cache().shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat().enumerate()
    ds = ds.skip(start_step * batch_size)
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

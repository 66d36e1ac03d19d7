"""Training-time augmentation of an image and its boxes: horizontal flip and photometric jitter, plus the
settings that also switch SSD's random crop (``random_crop``) on or off.

Every random draw is stateless (``tf.random.stateless_*``) and takes its ``seed`` (int [2]) from the caller, so
an augmented example depends only on the training seed and the example's position in the stream, never on which
``tf.data`` thread ran it first: a run is reproducible with one seed.
"""
from dataclasses import dataclass

import tensorflow as tf

# Names of the ``augmentations`` parameter.
AUGMENTATIONS = ("flip", "crop", "photometric")
# The default set: SSD's random crop is off. Measured on playing_cards (README, Recipe checks): with the crop the
# detector learns slower (val mAP 0.30 vs 0.43 after 600 steps) and within the 10-minute cap on 2 CPU cores
# was far from converged; without it the default run converges (twice the steps: AP50 +0.013 on test).
DEFAULT_AUGMENTATIONS = ("flip", "photometric")


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation: SSD random crop (``edgetpu_detector.training.random_crop``), horizontal flip and
    photometric jitter (brightness, contrast, saturation)."""

    horizontal_flip: bool = True
    photometric: bool = True
    random_crop: bool = True
    max_brightness_delta: float = 32.0  # in pixel units, on [0, 255]
    contrast_range: tuple = (0.8, 1.25)
    saturation_range: tuple = (0.8, 1.25)

    @classmethod
    def from_names(cls, names):
        """The AugmentConfig of a set of ``AUGMENTATIONS`` names, or None for none (empty or ``{"none"}``).

        Raises:
          ValueError: an unknown name.
        """
        names = {n.strip().lower() for n in names if n.strip()} - {"none"}
        unknown = names - set(AUGMENTATIONS)
        if unknown:
            raise ValueError(f"unknown augmentations {sorted(unknown)}; use some of {', '.join(AUGMENTATIONS)} "
                             "or none")
        if not names:
            return None
        return cls(horizontal_flip="flip" in names, random_crop="crop" in names, photometric="photometric" in names)


def random_horizontal_flip(image, boxes, seed):
    """Flip an image and its boxes left-right with probability 0.5.

    Args:
      image: [S, S, 3] any dtype.
      boxes: float32 [N, 4] ymin, xmin, ymax, xmax, normalized to [0, 1].
      seed: int32/int64 [2], the stateless seed of this draw.

    Returns:
      (image, boxes), flipped together or both unchanged.
    """
    flip = tf.random.stateless_uniform([], seed) < 0.5
    image = tf.cond(flip, lambda: tf.image.flip_left_right(image), lambda: image)
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=1)
    flipped = tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=1)
    boxes = tf.cond(flip, lambda: flipped, lambda: boxes)
    return image, boxes


def photometric_jitter(image, config, seed):
    """Random brightness, contrast and saturation.

    Args:
      image: float32 [S, S, 3] pixels in [0, 255].
      config: AugmentConfig (the ranges).
      seed: int32/int64 [2], the stateless seed of this draw (split into one per adjustment).

    Returns:
      float32 [S, S, 3] in [0, 255].
    """
    brightness, contrast, saturation = tf.unstack(tf.random.split(seed, 3))
    image = image + tf.random.stateless_uniform([], brightness, -config.max_brightness_delta,
                                                config.max_brightness_delta)
    image = tf.image.stateless_random_contrast(image, *config.contrast_range, seed=contrast)
    image = tf.image.stateless_random_saturation(image, *config.saturation_range, seed=saturation)
    return tf.clip_by_value(image, 0.0, 255.0)

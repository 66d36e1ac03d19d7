"""SSD's random crop ("patch sampling") data augmentation.

Source: Liu et al., "SSD" (ECCV 2016), section 2.2 "Data augmentation": each image is used whole or as a patch
whose minimum Jaccard overlap with the objects is 0.1, 0.3, 0.5, 0.7 or 0.9 (chosen at random); patches cover
0.1-1 of the image with aspect ratio 1/2-2; a box is kept when its centre lies in the patch, clipped to it.
The TF Object Detection API's ``ssd_random_crop`` preprocessing step does the same with
``tf.image.sample_distorted_bounding_box``; here its stateless twin, so the patch follows from the seed.
"""
import tensorflow as tf

MIN_OBJECT_COVERED = (0.1, 0.3, 0.5, 0.7, 0.9)


def ssd_random_crop(image, boxes, classes, seed, min_object_covered=MIN_OBJECT_COVERED,
                    aspect_ratio_range=(0.5, 2.0), area_range=(0.1, 1.0), max_attempts=100):
    """Crop a random patch of ``image`` and keep the boxes whose centre falls inside it.

    With probability ``1 / (len(min_object_covered) + 1)`` the image is returned whole.

    Args:
      image: uint8 or float [H, W, 3].
      boxes: float32 [N, 4] ymin, xmin, ymax, xmax, normalized to [0, 1] (N may be 0).
      classes: int32 [N].
      seed: int32/int64 [2], the stateless seed of this crop (the same seed gives the same patch).
      min_object_covered: the overlaps to choose from (fraction of a box the patch must cover).
      aspect_ratio_range: (min, max) width / height of the patch.
      area_range: (min, max) fraction of the image area the patch covers.
      max_attempts: tries before falling back to the whole image.

    Returns:
      (image [h, w, 3] same dtype, boxes float32 [M, 4] normalized to the patch and clipped to [0, 1],
      classes int32 [M]), M <= N.
    """
    choices = tf.constant(list(min_object_covered), tf.float32)
    choice_seed, patch_seed = tf.unstack(tf.random.split(seed, 2))
    choice = tf.random.stateless_uniform([], choice_seed, 0, len(min_object_covered) + 1, dtype=tf.int32)

    def crop():
        overlap = tf.gather(choices, tf.minimum(choice, len(min_object_covered) - 1))
        begin, size, window = tf.image.stateless_sample_distorted_bounding_box(
            tf.shape(image), bounding_boxes=tf.reshape(boxes, [1, -1, 4]), seed=patch_seed, min_object_covered=overlap,
            aspect_ratio_range=aspect_ratio_range, area_range=area_range, max_attempts=max_attempts,
            use_image_if_no_bounding_boxes=True)
        patch = tf.slice(image, begin, size)
        y0, x0, y1, x1 = tf.unstack(window[0, 0])
        scale = tf.stack([y1 - y0, x1 - x0, y1 - y0, x1 - x0])
        moved = (boxes - tf.stack([y0, x0, y0, x0])) / tf.maximum(scale, 1e-6)
        centre_y = (moved[:, 0] + moved[:, 2]) / 2.0
        centre_x = (moved[:, 1] + moved[:, 3]) / 2.0
        keep = (centre_y > 0.0) & (centre_y < 1.0) & (centre_x > 0.0) & (centre_x < 1.0)
        return (patch, tf.clip_by_value(tf.boolean_mask(moved, keep), 0.0, 1.0),
                tf.boolean_mask(classes, keep))

    return tf.cond(choice < len(min_object_covered), crop, lambda: (image, boxes, classes))

"""Training-time augmentation: SSD's random crop, the horizontal flip and photometric jitter move boxes and pixels
together, and the input pipeline is reproducible with one seed (stateless draws per example)."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.training.augment import AugmentConfig, photometric_jitter, random_horizontal_flip
from edgetpu_detector.training.input_pipeline import training_dataset
from edgetpu_detector.training.random_crop import ssd_random_crop

H, W = 60, 80
# Boxes ymin, xmin, ymax, xmax (normalized) spread over the image, of several sizes.
BOXES = np.float32([[0.1, 0.1, 0.4, 0.3], [0.5, 0.6, 0.9, 0.95], [0.3, 0.35, 0.7, 0.65], [0.0, 0.7, 0.2, 1.0]])
CLASSES = np.int32([1, 2, 3, 4])


def _position_image():
    """uint8 [H, W, 3] whose pixel (y, x) holds (y, x, 0): a patch tells where it came from."""
    y, x = np.mgrid[:H, :W]
    return np.stack([y, x, np.zeros_like(y)], axis=-1).astype(np.uint8)


def _seed(*values):
    return tf.constant(values, tf.int64)


def test_random_crop_keeps_the_boxes_centred_in_the_patch_in_patch_coordinates():
    image = _position_image()
    patches = set()
    for s in range(40):
        patch, boxes, classes = (t.numpy() for t in ssd_random_crop(tf.constant(image), tf.constant(BOXES),
                                                                    tf.constant(CLASSES), _seed(7, s)))
        h, w = patch.shape[:2]
        y0, x0 = int(patch[0, 0, 0]), int(patch[0, 0, 1])  # the patch's top-left pixel in the image
        assert np.array_equal(patch, image[y0:y0 + h, x0:x0 + w])
        patches.add((y0, x0, h, w))
        # Each box in image coordinates, moved into the patch: kept when its centre lies inside, clipped to it.
        scale = np.float32([h / H, w / W, h / H, w / W])
        moved = (BOXES - np.float32([y0 / H, x0 / W, y0 / H, x0 / W])) / scale
        centre_y, centre_x = (moved[:, 0] + moved[:, 2]) / 2, (moved[:, 1] + moved[:, 3]) / 2
        inside = (centre_y > 0) & (centre_y < 1) & (centre_x > 0) & (centre_x < 1)
        assert classes.tolist() == CLASSES[inside].tolist()
        np.testing.assert_allclose(boxes, np.clip(moved[inside], 0, 1), atol=1e-5)
        assert boxes.dtype == np.float32 and classes.dtype == np.int32
    # Patches of many kinds, the whole image among them (1 draw in 6).
    assert len(patches) > 20 and (0, 0, H, W) in patches


def test_random_crop_follows_its_seed():
    def crop(seed):
        return [t.numpy() for t in ssd_random_crop(tf.constant(_position_image()), tf.constant(BOXES),
                                                   tf.constant(CLASSES), seed)]

    first, again = crop(_seed(3, 11)), crop(_seed(3, 11))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    others = [crop(_seed(3, s))[0].shape for s in range(12, 20)]
    assert any(shape != first[0].shape for shape in others)


def test_random_crop_of_an_image_without_boxes():
    patch, boxes, classes = ssd_random_crop(tf.constant(_position_image()), tf.zeros([0, 4]),
                                            tf.zeros([0], tf.int32), _seed(0, 1))
    assert patch.shape[2] == 3 and boxes.shape == (0, 4) and classes.shape == (0,)


def test_horizontal_flip_moves_pixels_and_boxes_together():
    image = np.zeros((H, W, 3), np.float32)
    for ymin, xmin, ymax, xmax in BOXES[:2]:  # paint two boxes
        image[round(ymin * H):round(ymax * H), round(xmin * W):round(xmax * W)] = 255
    flips = 0
    for s in range(20):
        out, boxes = random_horizontal_flip(tf.constant(image), tf.constant(BOXES[:2]), _seed(1, s))
        out, boxes = out.numpy(), boxes.numpy()
        flipped = not np.array_equal(out, image)
        flips += flipped
        expected = BOXES[:2][:, [0, 3, 2, 1]] * [1, -1, 1, -1] + [0, 1, 0, 1] if flipped else BOXES[:2]
        np.testing.assert_allclose(boxes, expected, atol=1e-6)
        for ymin, xmin, ymax, xmax in boxes:  # the painted pixels are where the boxes say
            assert out[round(ymin * H):round(ymax * H), round(xmin * W):round(xmax * W)].min() == 255
        assert out.sum() == image.sum()
    assert 4 <= flips <= 16  # probability 0.5


def test_photometric_jitter_stays_in_range_and_follows_its_seed():
    image = tf.constant(np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype(np.float32))
    config = AugmentConfig()
    outs = [photometric_jitter(image, config, _seed(2, s)).numpy() for s in range(8)]
    for out in outs:
        assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 255
        # brightness +-32 and contrast / saturation within 0.8-1.25 keep the picture: mean within ~45 levels
        assert abs(out.mean() - image.numpy().mean()) < 45
    assert np.array_equal(outs[0], photometric_jitter(image, config, _seed(2, 0)).numpy())
    assert len({out.tobytes() for out in outs}) == len(outs)


@pytest.fixture(scope="module")
def fruit_records(shared_dir, tmp_path_factory):
    return preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path_factory.mktemp("fruit"), progress=False)


def _batches(records, seed, count=3):
    config = DetectorConfig(image_size=96, num_classes=records.num_classes)
    dataset = training_dataset(str(records.train_record), config, batch_size=4, seed=seed)
    return [(images.numpy(), targets["box_targets"].numpy(), targets["class_targets"].numpy())
            for images, targets in dataset.take(count)]


def test_training_batches_are_reproducible_with_one_seed(fruit_records):
    """The same seed gives the same augmented batches bit for bit, whatever tf.data's threads did; another seed
    gives others. (With stateful random ops in the parallel map, draws went to whichever example ran first.)"""
    first, again, other = (_batches(fruit_records, seed) for seed in (0, 0, 1))
    for a, b in zip(first, again):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(first[0][0], other[0][0])
    images = np.concatenate([b[0] for b in first])
    assert images.shape == (12, 96, 96, 3) and images.min() >= 0 and images.max() <= 255

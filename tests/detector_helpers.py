"""A small random detector that behaves like a trained one, and synthetic images, shared by the export and
serving tests.

With fresh batch-norm statistics a random MobileNet's activations vanish (every score is sigmoid(-4.6)), so
``random_detector`` sets the batch-norm statistics from one batch of images and widens the class heads: the
outputs then vary like a real detector's and comparisons between exported forms mean something.
"""
import keras
import numpy as np

from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector


def synthetic_images(n, height, width, seed):
    """``n`` uint8 [height, width, 3] images: a smooth background plus a few coloured rectangles and noise."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        yy, xx = np.mgrid[0:height, 0:width]
        base = rng.uniform(40, 200, 3)[None, None] + 40 * np.sin(xx / rng.uniform(5, 20))[..., None]
        image = base + rng.normal(0, 12, (height, width, 3))
        for _ in range(3):
            y0, x0 = rng.integers(0, height // 2), rng.integers(0, width // 2)
            y1, x1 = y0 + rng.integers(height // 6, height // 2), x0 + rng.integers(width // 6, width // 2)
            image[y0:y1, x0:x1] = rng.uniform(0, 255, 3)
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return images


def random_detector(size, num_classes, alpha=0.35, seed=1234, model="ssdlite_mobilenet_v2"):
    """Build ``(keras model, DetectorConfig)``: a seeded random detector of input ``size`` x ``size`` whose
    batch-norm statistics come from 8 synthetic images and whose class-head kernels are scaled by 4."""
    keras.utils.set_random_seed(seed)
    config = DetectorConfig(model=model, image_size=size, num_classes=num_classes, alpha=alpha)
    detector = build_detector(config)
    batch = np.stack(synthetic_images(8, size, size, seed=1)).astype(np.float32)
    norms = [layer for layer in detector._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0  # one training-mode call sets the moving statistics to the batch statistics
    detector(batch, training=True)
    for layer in norms:
        layer.momentum = 0.997
    for i in range(len(config.feature_map_sizes)):
        head = detector.get_layer(f"class_head_{i}")
        kernel, bias = head.get_weights()
        head.set_weights([4.0 * kernel, bias])
    return detector, config

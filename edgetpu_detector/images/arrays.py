"""Checking and resizing the uint8 images that the exporters and runners take."""
import numpy as np
from PIL import Image


def check_image(image, name="image"):
    """Return ``image`` as a C-contiguous uint8 numpy array [H, W, 3].

    Raises:
      TypeError: not uint8.
      ValueError: not of shape [H, W, 3] with H, W >= 1.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 [H, W, 3], got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"{name} must be uint8 [H, W, 3], got shape {image.shape}")
    return np.ascontiguousarray(image)


def resize_image(image, height, width):
    """Resize a uint8 [H, W, 3] image to uint8 [height, width, 3] with Pillow's bilinear filter.

    Returns the input unchanged when it already has that size.
    """
    image = check_image(image)
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR), dtype=np.uint8)

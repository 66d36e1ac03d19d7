"""Decoding the encoded image of one request row (JPEG, PNG, ... bytes) into RGB pixels, without TensorFlow.

Same pixels as ``steps.predict`` reads from a file (``common.media``): EXIF orientation applied
(``PIL.ImageOps.exif_transpose``), converted to RGB (alpha composited over white, ``common.images.to_rgb``).
"""
import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from common.images import DEFAULT_MAX_PIXELS, ImageTooLarge, check_pixel_limit, to_rgb

_BYTES_TYPES = (bytes, bytearray, memoryview, np.bytes_)


def decode_image_bytes(data, where="image", max_pixels=DEFAULT_MAX_PIXELS):
    """Decode one encoded image into a uint8 [H, W, 3] RGB numpy array.

    Args:
      data: the bytes of an image file (``bytes``, ``bytearray``, ``memoryview`` or ``numpy.bytes_``).
      where: what to call the value in error messages, e.g. ``"row 3"``.
      max_pixels: refuse images whose header declares more pixels than this (decompression bombs),
        before decoding any pixel; 0 or None: no limit.

    Returns:
      numpy uint8 array [H, W, 3], C-contiguous, EXIF orientation applied.

    Raises:
      ValueError: ``where`` and the problem: not bytes (e.g. a str: base64 text must be decoded first; the
        MLflow scoring server does it for a ``binary`` column), empty, not a decodable image (unknown format,
        truncated, corrupt), or above ``max_pixels`` (``common.images.ImageTooLarge``, a ValueError).
    """
    if not isinstance(data, _BYTES_TYPES):
        hint = " (base64 text? decode it to bytes first)" if isinstance(data, str) else ""
        raise ValueError(f"{where}: expected the encoded image as bytes, got {type(data).__name__}{hint}")
    data = bytes(data)
    if not data:
        raise ValueError(f"{where}: empty image bytes")
    try:
        with warnings.catch_warnings():  # the pixel limit is checked here instead of Pillow's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            check_pixel_limit(image.width, image.height, max_pixels)
            image.load()
            pixels = np.asarray(to_rgb(ImageOps.exif_transpose(image)), dtype=np.uint8)
    except ImageTooLarge as error:
        raise ImageTooLarge(f"{where}: {error}") from error
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"{where}: {error} (decompression-bomb guard)") from error
    except (OSError, SyntaxError, ValueError) as error:  # PIL.UnidentifiedImageError is an OSError
        raise ValueError(f"{where}: not a decodable image ({len(data)} bytes): {error}") from error
    return np.ascontiguousarray(pixels)

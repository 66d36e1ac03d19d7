"""JPEG bytes for TFRecords, without TensorFlow (the TF Object Detection API decodes ``image/encoded`` as a
3-channel JPEG).

Rules:

* pass-through: a file whose data is an RGB (or YCbCr) baseline/progressive JPEG with no EXIF rotation
  to apply or drop is written byte for byte (no generation loss); it is still fully decoded once, so
  a truncated or corrupt file is found;
* anything else (grayscale ``L``, ``1``, ``CMYK``, ``RGBA``/``LA``/``P``, 16-bit ``I;16``, a PNG saved
  as ``.jpg``, BMP ...) is converted to RGB with ``edgetpu_detector.images.decode.to_rgb`` and re-encoded
  as baseline JPEG, quality 95, 4:2:0, without EXIF or ICC data. Pillow's encoder is deterministic: same
  input, same bytes;
* the pixel limit of ``edgetpu_detector.images.decode`` applies.
"""
from __future__ import annotations

import io

from PIL import Image, ImageOps

from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS, open_image, to_rgb

JPEG_QUALITY = 95


def encode_rgb_jpeg(image: Image.Image) -> bytes:
    """Encode an image as an RGB baseline JPEG (quality 95, 4:2:0, no EXIF/ICC), deterministically."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False,
                       progressive=False)
    return buffer.getvalue()


def jpeg_for_record(raw: bytes, exif_transpose: bool = False, reencode: bool = False,
                    max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[bytes, int, int]:
    """Return (RGB JPEG bytes, width, height) for the bytes of an image file, following the module rules.

    The image is always fully decoded (so truncated or corrupt data is detected). With ``exif_transpose``
    the EXIF orientation is applied (``PIL.ImageOps.exif_transpose``) before re-encoding; ``reencode``
    forces a re-encode (e.g. to drop an EXIF orientation that does not apply).

    Raises:
        ImageTooLarge: above ``max_pixels``.
        ValueError: when the data cannot be decoded (truncated, corrupt, unknown format).
    """
    with open_image(raw, max_pixels) as image:
        passthrough = (image.format == "JPEG" and image.mode == "RGB" and not exif_transpose and not reencode)
        image.load()
        if passthrough:
            return raw, image.width, image.height
        if exif_transpose:
            image = ImageOps.exif_transpose(image)
        return encode_rgb_jpeg(image), image.width, image.height

"""Image files for TFRecords, without TensorFlow: header probing, the pixel limit, RGB conversion, JPEG bytes.

Rules (the TF Object Detection API decodes ``image/encoded`` as a 3-channel JPEG):

* pass-through: a file whose data is an RGB (or YCbCr) baseline/progressive JPEG with no EXIF rotation
  to apply or drop is written byte for byte (no generation loss); it is still fully decoded once, so
  a truncated or corrupt file is found;
* anything else (grayscale ``L``, ``1``, ``CMYK``, ``RGBA``/``LA``/``P``, 16-bit ``I;16``, a PNG saved
  as ``.jpg``, BMP ...) is converted to RGB with Pillow (transparent pixels composited over white,
  16-bit scaled to 8 bits by the image's peak) and re-encoded as baseline JPEG, quality 95, 4:2:0,
  without EXIF or ICC data. Pillow's encoder is deterministic: same input, same bytes.
* pixel limit: an image whose header declares more than ``max_pixels`` pixels is rejected before any
  pixel is decoded (decompression bombs: a small file that expands to gigabytes).
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

JPEG_QUALITY = 95
DEFAULT_MAX_PIXELS = 100_000_000  # 100 MP: above every phone / DSLR photo, far below a bomb
EXIF_ORIENTATION = 0x0112
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_EXTENSION_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".bmp": "BMP",
                      ".gif": "GIF", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
IMAGE_EXTENSIONS = tuple(_EXTENSION_FORMATS)


class ImageTooLarge(ValueError):
    """An image above the pixel limit."""


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: ``format`` (Pillow's, e.g. "JPEG", "PNG"), ``mode`` ("RGB",
    "L", "RGBA", "I;16" ...), stored ``width``/``height`` in pixels, EXIF ``orientation`` (1-8; 1 when absent)."""

    format: str
    mode: str
    width: int
    height: int
    orientation: int


def check_pixel_limit(width: int, height: int, max_pixels: int) -> None:
    """Raise ImageTooLarge when ``width * height > max_pixels``."""
    if max_pixels and width * height > max_pixels:
        raise ImageTooLarge(f"image is {width}x{height} = {width * height} pixels, above the limit of "
                            f"{max_pixels} pixels (decompression-bomb guard)")


def _open(source):
    return Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)


def probe_image(source, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHeader:
    """Read an image header (no pixel decoding) from a path or bytes.

    Raises:
        ImageTooLarge: above ``max_pixels`` (Pillow's own DecompressionBombError included).
        ValueError: when Pillow cannot identify the file.
    """
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: the limit is checked here instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = _open(source)
        with image:
            check_pixel_limit(image.width, image.height, max_pixels)
            try:
                orientation = int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)
            except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
                orientation = 1
            return ImageHeader(image.format or "", image.mode, image.width, image.height, orientation)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{exc} (decompression-bomb guard)") from exc
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"not a readable image: {exc}") from exc


def extension_format(path) -> str | None:
    """The image format a file name's extension promises ("JPEG", "PNG" ...), None when unknown."""
    return _EXTENSION_FORMATS.get(Path(path).suffix.lower())


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow image to mode RGB; alpha is composited over an opaque white background."""
    if image.mode == "RGB":
        return image
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I") or image.mode == "F":
        # 16/32-bit grayscale: scale to 8 bits by the peak instead of clipping at 255.
        array = np.asarray(image, dtype=np.float64)
        peak = float(array.max()) or 1.0
        image = Image.fromarray(np.clip(array * (255.0 / peak), 0, 255).astype(np.uint8), mode="L")
    return image.convert("RGB")


def encode_rgb_jpeg(image: Image.Image) -> bytes:
    """Encode an image as an RGB baseline JPEG (quality 95, 4:2:0, no EXIF/ICC), deterministically."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False,
                       progressive=False)
    return buffer.getvalue()


def needs_reencode(header: ImageHeader) -> bool:
    """True unless the data is an RGB JPEG whose EXIF orientation is 1 (see the module's pass-through rule)."""
    return not (header.format == "JPEG" and header.mode == "RGB" and header.orientation == 1)


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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
        with image:
            check_pixel_limit(image.width, image.height, max_pixels)
            passthrough = (image.format == "JPEG" and image.mode == "RGB" and not exif_transpose and not reencode)
            image.load()
            if passthrough:
                return raw, image.width, image.height
            if exif_transpose:
                image = ImageOps.exif_transpose(image)
            return encode_rgb_jpeg(image), image.width, image.height
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{exc} (decompression-bomb guard)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageTooLarge):
            raise
        raise ValueError(f"image cannot be decoded: {exc}") from exc

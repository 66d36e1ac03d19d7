"""The one image decoder: image files and encoded bytes to pixels, without TensorFlow.

Every consumer -- dataset validation, TFRecord encoding, ``predict`` on images and video frames, the served
MLflow model -- opens images here, so all of them apply the same rules:

* pixel limit: an image whose header declares more than ``max_pixels`` pixels is rejected before any pixel
  is decoded (decompression bombs: a small file that expands to gigabytes); Pillow's own warning is
  replaced by this check;
* ``decode_image`` gives uint8 [H, W, 3] RGB with the EXIF orientation applied
  (``PIL.ImageOps.exif_transpose``) and transparency composited over white (``to_rgb``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
import io
from pathlib import Path
import warnings

import numpy as np
from PIL import Image, ImageOps

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


@contextlib.contextmanager
def open_image(source, max_pixels: int = DEFAULT_MAX_PIXELS):
    """Open an image (path, or the bytes of a file) lazily, after checking its header against ``max_pixels``.

    Yields the ``PIL.Image.Image`` (closed afterwards); no pixel is decoded until the caller asks.

    Raises:
        ImageTooLarge: above ``max_pixels`` (Pillow's own DecompressionBombError included).
        ValueError: Pillow cannot identify the file ("not a readable image: ..."), or decoding it in the
            block fails ("image cannot be decoded: ...": truncated, corrupt).
    """
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: the limit is checked here instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview))
                               else source)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{exc} (decompression-bomb guard)") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # PIL.UnidentifiedImageError is an OSError
        raise ValueError(f"not a readable image: {exc}") from exc
    with image:
        check_pixel_limit(image.width, image.height, max_pixels)
        try:
            yield image
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(f"{exc} (decompression-bomb guard)") from exc
        except ImageTooLarge:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValueError(f"image cannot be decoded: {exc}") from exc


def probe_image(source, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHeader:
    """Read an image header (no pixel decoding) from a path or bytes.

    Raises:
        ImageTooLarge: above ``max_pixels`` (Pillow's own DecompressionBombError included).
        ValueError: when Pillow cannot identify the file.
    """
    with open_image(source, max_pixels) as image:
        try:
            orientation = int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)
        except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
            orientation = 1
        return ImageHeader(image.format or "", image.mode, image.width, image.height, orientation)


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


def decode_image(source, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image file (path) or its bytes into RGB pixels.

    Returns:
        numpy uint8 [H, W, 3], C-contiguous, EXIF orientation applied, alpha composited over white.

    Raises:
        ImageTooLarge: above ``max_pixels`` (0 or None: no limit).
        ValueError: not a decodable image (unknown format, truncated, corrupt).
    """
    with open_image(source, max_pixels) as image:
        image.load()
        return np.ascontiguousarray(np.asarray(to_rgb(ImageOps.exif_transpose(image)), dtype=np.uint8))

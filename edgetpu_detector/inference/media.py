"""Frames to run a detector on: every image of a folder, or every frame of a video file (PyAV / FFmpeg)."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, check_pixel_limit, decode_image

IMAGE_SUFFIXES = frozenset(IMAGE_EXTENSIONS)
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


@dataclass(frozen=True)
class Frame:
    """One picture: ``source`` file name, ``index`` (frame number in a video, 0 for an image), ``image``
    uint8 [H, W, 3] RGB."""

    source: str
    index: int
    image: np.ndarray


def is_video(path):
    """True when ``path`` names a video file by its suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def count_frames(path):
    """Number of frames ``iter_frames(path)`` will yield, or None when a video does not say."""
    path = Path(path)
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if is_video(path):
        import av

        with av.open(str(path)) as container:
            frames = container.streams.video[0].frames
        return frames or None
    return 1


def iter_frames(path, every=1, max_pixels=DEFAULT_MAX_PIXELS):
    """Yield Frames from an image, a folder of images (sorted by name) or a video file.

    Images are decoded by ``edgetpu_detector.images.decode.decode_image`` (EXIF orientation, RGB, the pixel
    limit); video frames by PyAV, checked against the same pixel limit.

    Args:
      path: file or folder.
      every: keep one video frame in ``every`` (1: all).
      max_pixels: refuse images and frames with more pixels than this.

    Raises:
      FileNotFoundError: the path does not exist. ValueError: a file that is neither an image nor a video,
      or an image that cannot be decoded (the message names the file).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for file in files:
            yield Frame(file.name, 0, _read_image(file, max_pixels))
    elif is_video(path):
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            check_pixel_limit(stream.codec_context.width, stream.codec_context.height, max_pixels)
            for index, frame in enumerate(container.decode(stream)):
                if index % every == 0:
                    yield Frame(path.name, index, frame.to_ndarray(format="rgb24"))
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        yield Frame(path.name, 0, _read_image(path, max_pixels))
    else:
        raise ValueError(f"{path}: not an image ({', '.join(sorted(IMAGE_SUFFIXES))}) "
                         f"nor a video ({', '.join(sorted(VIDEO_SUFFIXES))})")


def _read_image(path, max_pixels):
    try:
        return decode_image(path, max_pixels)
    except ValueError as error:
        raise type(error)(f"{path}: {error}") from error

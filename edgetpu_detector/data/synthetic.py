"""Generate a small, seeded LabelImg dataset of simple shapes: the default data when none is given.

Layout (LabelImg's, with train/ and test/ folders, edgetpu_detector.data.dataset finds the split):

    out_dir/train/train_0000.jpg + train_0000.xml, ...
    out_dir/test/test_0000.jpg + test_0000.xml, ...

Each image is ``image_size`` (width, height) pixels of a smooth random colour field plus Gaussian noise,
with 1-4 non-overlapping objects from 3 classes, each a distinct shape and colour: ``circle`` (red),
``square`` (green), ``triangle`` (blue, apex up). An object's side is 15-50 % of the image's shorter
side, so a small SSD learns them in a few hundred steps. Boxes are tight, in LabelImg's integer
pixel coordinates (``xmax = xmin + side``).

The XML is LabelImg's layout (``edgetpu_detector.data.formats.labelimg_writers.voc_xml``), except
that ``<path>`` holds the file name only, so the bytes do not depend on ``out_dir``. Output is
byte-identical for the same arguments: every image draws from its own ``numpy`` generator seeded
with ``(seed, split, index)``, JPEG parameters are fixed and nothing records a time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from edgetpu_detector.data.formats.labelimg_writers import voc_xml

CLASSES = ("circle", "square", "triangle")
COLOURS = {"circle": (220, 40, 40), "square": (40, 190, 60), "triangle": (40, 80, 230)}
_SPLITS = ("train", "test")
_JPEG_OPTIONS = {"format": "JPEG", "quality": 92, "subsampling": "4:2:0", "optimize": False, "progressive": False}
_MAX_OBJECTS = 4


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Smooth random colour field (muted greys/browns) with Gaussian pixel noise, RGB uint8."""
    grey = rng.uniform(70, 170, size=(4, 5, 1))
    coarse = np.clip(grey + rng.uniform(-25, 25, size=(4, 5, 3)), 0, 255).astype(np.uint8)
    field = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BILINEAR), np.float32)
    noisy = field + rng.normal(0.0, 14.0, size=field.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def _overlaps(box, boxes, margin: int = 4) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + margin and b[0] < x1 + margin and y0 < b[3] + margin and b[1] < y1 + margin for b in boxes)


def _draw(draw: ImageDraw.ImageDraw, name: str, box, colour) -> None:
    x0, y0, x1, y1 = box  # continuous edges; Pillow's shapes include their last pixel
    if name == "circle":
        draw.ellipse((x0, y0, x1 - 1, y1 - 1), fill=colour)
    elif name == "square":
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=colour)
    else:
        draw.polygon(((x0, y1 - 1), (x1 - 1, y1 - 1), ((x0 + x1 - 1) / 2.0, y0)), fill=colour)


def make_image(rng: np.random.Generator, image_size=(320, 240)) -> tuple[Image.Image, list[tuple]]:
    """Draw one image; returns (RGB PIL image, [(class, xmin, ymin, xmax, ymax) int pixels])."""
    width, height = image_size
    image = _background(rng, width, height)
    draw = ImageDraw.Draw(image)
    short = min(width, height)
    wanted = int(rng.integers(1, _MAX_OBJECTS + 1))
    objects, boxes = [], []
    for _ in range(200):
        if len(objects) == wanted:
            break
        side = int(rng.integers(int(0.15 * short), int(0.5 * short) + 1))
        x0 = int(rng.integers(0, width - side + 1))
        y0 = int(rng.integers(0, height - side + 1))
        name = CLASSES[int(rng.integers(0, len(CLASSES)))]
        box = (x0, y0, x0 + side, y0 + side)
        if _overlaps(box, boxes):
            continue
        jitter = rng.integers(-20, 21, size=3)
        colour = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(COLOURS[name], jitter))
        _draw(draw, name, box, colour)
        boxes.append(box)
        objects.append((name, *box))
    return image, objects


def make_synthetic_dataset(out_dir, num_train: int = 60, num_test: int = 15, image_size=(320, 240), seed: int = 0) -> Path:
    """Write the synthetic LabelImg dataset (see module docstring) and return ``out_dir``.

    Args:
        out_dir: folder to create; its train/ and test/ may only hold files this call writes.
        num_train, num_test: image counts (>= 1 and >= 0).
        image_size: (width, height) pixels, each >= 32.
        seed: int; the same arguments give byte-identical files.

    Raises:
        ValueError: on bad counts or image size.
        FileExistsError: when train/ or test/ already holds other files (they would join the data).
    """
    width, height = (int(v) for v in image_size)
    if width < 32 or height < 32:
        raise ValueError(f"image_size must be at least 32x32, got {image_size}")
    if num_train < 1 or num_test < 0:
        raise ValueError(f"need num_train >= 1 and num_test >= 0, got {num_train}, {num_test}")
    out_dir = Path(out_dir)
    plan = {"train": num_train, "test": num_test}
    for split, count in plan.items():
        folder = out_dir / split
        planned = {f"{split}_{i:04d}{ext}" for i in range(count) for ext in (".jpg", ".xml")}
        if folder.is_dir():
            extra = sorted(p.name for p in folder.iterdir() if p.name not in planned)
            if extra:
                raise FileExistsError(f"{folder}: holds files this dataset would not write: {extra[:5]}")
        folder.mkdir(parents=True, exist_ok=True)
    for split_index, split in enumerate(_SPLITS):
        for i in range(plan[split]):
            rng = np.random.default_rng([seed, split_index, i])
            image, objects = make_image(rng, (width, height))
            stem = f"{split}_{i:04d}"
            image.save(out_dir / split / f"{stem}.jpg", **_JPEG_OPTIONS)
            (out_dir / split / f"{stem}.xml").write_bytes(voc_xml(split, f"{stem}.jpg", width, height, objects))
    return out_dir

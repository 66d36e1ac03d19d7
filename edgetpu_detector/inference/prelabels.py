"""Pre-labels for LabelImg: a copy of every image with the detections as its annotation, and the ranking of
the images for labelling (``to_label.csv``).

``<output_dir>/prelabels/`` receives, per image, a copy of the image and one annotation in LabelImg's layout
(``edgetpu_detector.data.formats.labelimg_writers``): ``voc`` (``<stem>.xml``), ``yolo`` (``<stem>.txt`` and
``classes.txt``) or ``createml`` (``<stem>.json``). Open the folder in LabelImg (*Open Dir*, and for CreateML
also *Change Save Dir* to the same folder), correct the boxes, save, and feed the folder back to the
pipeline (``data_dir``). Boxes are the detections at or above the score threshold, rounded to whole pixels
(LabelImg's coordinates); ``truncated`` is set for a box touching the image border, as LabelImg's VOC writer
does. The image copy is the original file, byte for byte, unless its EXIF orientation rotates it: then the
pixels the detector saw are written (LabelImg shows the stored pixels). Video frames are written as
``<video stem>_frame<index>.jpg``.

``<output_dir>/to_label.csv`` ranks the images by ``edgetpu_detector.inference.ranking`` (most useful to label
first): ``rank, image, annotation, priority, best_score, prelabels, candidates``.
"""
from __future__ import annotations

import csv
from pathlib import Path
import shutil

import numpy as np
from PIL import Image

from edgetpu_detector.data.formats.labelimg_writers import FORMATS, write_annotation
from edgetpu_detector.images.decode import probe_image
from edgetpu_detector.inference.ranking import rank_images
from edgetpu_detector.tfrecord.records import Box

PRELABEL_FORMATS = ("none",) + FORMATS
PRELABEL_DIR = "prelabels"
RANKING_FILE = "to_label.csv"
RANKING_COLUMNS = ("rank", "image", "annotation", "priority", "best_score", "prelabels", "candidates")


def pixel_boxes(detections, labels: dict, width: int, height: int) -> list[Box]:
    """Detections as LabelImg boxes: whole pixels, clipped to the image, at least 1 pixel wide and high.

    Args:
      detections: ``Detections`` (boxes ymin, xmin, ymax, xmax normalized; label-map ids).
      labels: ``{label-map id: class name}``; an id without a name is named by its number.
      width, height: the image's size in pixels.
    """
    boxes = []
    for (ymin, xmin, ymax, xmax), class_id in zip(np.asarray(detections.boxes, np.float64), detections.classes):
        x0, x1 = (int(np.clip(round(v * width), 0, width)) for v in (xmin, xmax))
        y0, y1 = (int(np.clip(round(v * height), 0, height)) for v in (ymin, ymax))
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        touches = x0 <= 1 or y0 <= 1 or x1 >= width or y1 >= height
        boxes.append(Box(labels.get(int(class_id), str(int(class_id))), x0, y0, x1, y1, truncated=touches))
    return boxes


class PrelabelWriter:
    """Writes the pre-label folder and the ranking of one ``predict`` call (see the module docstring)."""

    def __init__(self, output_dir, format: str, labels: dict, score_threshold: float):
        if format not in FORMATS:
            raise ValueError(f"prelabel_format must be one of {', '.join(PRELABEL_FORMATS)}, got {format!r}")
        self.folder = Path(output_dir) / PRELABEL_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ranking_path = Path(output_dir) / RANKING_FILE
        self.format, self.labels, self.score_threshold = format, dict(labels), float(score_threshold)
        self.class_names = [self.labels[i] for i in sorted(self.labels)]
        self.entries: list = []
        self.num_boxes = 0

    def _copy_image(self, frame, source: Path | None) -> Path:
        if source is None:  # a video frame
            target = self.folder / f"{Path(frame.source).stem}_frame{frame.index:06d}.jpg"
            Image.fromarray(frame.image).save(target, quality=95)
            return target
        target = self.folder / source.name
        if probe_image(source).orientation == 1:
            shutil.copyfile(source, target)
        else:
            Image.fromarray(frame.image).save(target, **({"quality": 95} if target.suffix.lower() in (
                ".jpg", ".jpeg", ".jpe") else {}))
        return target

    def add(self, frame, source: Path | None, all_detections) -> Path:
        """Copy one image (``source``: its file; None for a video frame) and write its annotation.

        Args:
          frame: the ``Frame`` the detector ran on (uint8 [H, W, 3]).
          all_detections: every ``Detections`` the model returned; those at or above the threshold become
            pre-labels, all of them rank the image.

        Returns:
          the annotation's path.
        """
        height, width = frame.image.shape[:2]
        image = self._copy_image(frame, source)
        boxes = pixel_boxes(all_detections.above(self.score_threshold), self.labels, width, height)
        for box in boxes:
            if box.label not in self.class_names:
                self.class_names.append(box.label)
        annotation = write_annotation(self.format, image, width, height, boxes, self.class_names)
        self.num_boxes += len(boxes)
        self.entries.append((image.name, annotation.name, all_detections.scores))
        return annotation

    def write_ranking(self) -> Path:
        """Write ``to_label.csv`` (see the module docstring) and return its path."""
        with open(self.ranking_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(RANKING_COLUMNS)
            for rank, item in enumerate(rank_images(self.entries, self.score_threshold), start=1):
                writer.writerow([rank, item.image, item.annotation, f"{item.priority:.4f}",
                                 f"{item.best_score:.4f}", item.prelabels, item.candidates])
        return self.ranking_path

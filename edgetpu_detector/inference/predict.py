"""Run any exported detector on a folder of images or a video: annotated pictures, detections, latency.

Models: a SavedModel folder (``serving_default``, uint8 image of any size), a ``.tflite`` detector on the CPU
through ``ai_edge_litert``, or an Edge TPU-compiled ``*_edgetpu.tflite`` through the Edge TPU delegate
(``load_delegate('libedgetpu.so.1')``, Coral docs), which needs Coral's runtime and a device.
With ``prelabel_format`` it also writes pre-labels for LabelImg and the labelling ranking
(``edgetpu_detector.inference.prelabels``).
"""
import csv
from dataclasses import dataclass, field
import json
from pathlib import Path
import time

import numpy as np
from tqdm import tqdm

from edgetpu_detector.images.drawing import draw_detections
from edgetpu_detector.inference.load import find_labels, load_detector
from edgetpu_detector.inference.media import count_frames, is_video, iter_frames
from edgetpu_detector.inference.prelabels import PRELABEL_FORMATS, PrelabelWriter

FORMATS = ("csv", "json")


@dataclass
class PredictResult:
    """Files written by ``predict`` and what was measured."""

    output_dir: Path
    detections_path: Path
    frames_path: Path
    pictures: list = field(default_factory=list)
    num_frames: int = 0
    num_detections: int = 0
    latency_ms: dict = field(default_factory=dict)  # median, mean, p90 over frames after the first
    kind: str = ""
    notice: str = ""
    prelabel_dir: Path | None = None  # with prelabel_format: the pre-label folder
    ranking_path: Path | None = None  # and to_label.csv
    num_prelabels: int = 0  # boxes written as pre-labels

    def metrics(self):
        """``{name: number}`` as the predict run logs them (``predict/prelabels``: boxes written as pre-labels,
        with ``prelabel_format`` only)."""
        metrics = {"predict/frames": self.num_frames, "predict/detections": self.num_detections,
                   **{f"predict/latency_ms_{k}": v for k, v in self.latency_ms.items()}}
        if self.prelabel_dir is not None:
            metrics["predict/prelabels"] = self.num_prelabels
        return metrics

    def summary(self):
        """One console line."""
        return (f"predict: {self.num_frames} frames, {self.num_detections} detections, "
                f"{self.latency_ms['median']:.1f} ms per image (median, {self.kind}); wrote "
                f"{self.detections_path.name}, {self.frames_path.name}"
                + (f" and {len(self.pictures)} pictures" if self.pictures else "")
                + (f"; {self.num_prelabels} pre-labels in {self.prelabel_dir.name}/, images ranked for labelling "
                   f"in {self.ranking_path.name}" if self.prelabel_dir is not None else ""))


def predict(model_path, input_path, output_dir, labels_path=None, score_threshold=0.3, output_format="csv",
            device="auto", num_threads=0, every=1, draw=True, progress=True, prelabel_format="none"):
    """Detect objects in every image of a folder (or an image, or a video), writing pictures and detections.

    Args:
      model_path: see ``load_detector``.
      input_path: image file, folder of images, or video file (see ``edgetpu_detector.inference.media``).
      output_dir: destination: ``detections.csv`` or ``detections.json``, ``frames.csv`` (one row per
        frame: size, detections kept, latency in ms) and ``images/`` (annotated JPEGs) when ``draw``.
      labels_path: optional ``labels.txt``.
      score_threshold: detections below it are dropped (the model's own threshold applies first).
      output_format: ``csv`` (one row per detection) or ``json`` (one object per frame).
      device: see ``load_detector``.
      num_threads: TFLite CPU threads; 0: the runtime's default.
      every: keep one video frame in ``every``.
      draw: write annotated pictures.
      progress: show a progress bar.
      prelabel_format: ``none``, or ``voc``, ``yolo``, ``createml``: also write ``prelabels/`` (a copy of each
        image with its detections as a LabelImg annotation) and ``to_label.csv`` (the images ranked for
        labelling), see ``edgetpu_detector.inference.prelabels``.

    Returns:
      PredictResult. Latency is the wall time of the model call alone, per frame, in milliseconds.

    Raises:
      ValueError: an unknown format, bad input; see also ``load_detector``.
    """
    if output_format not in FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    if prelabel_format not in PRELABEL_FORMATS:
        raise ValueError(f"prelabel_format must be one of {', '.join(PRELABEL_FORMATS)}, got {prelabel_format!r}")
    output_dir = Path(output_dir)
    (output_dir / "images").mkdir(parents=True, exist_ok=True)
    detector = load_detector(model_path, device, num_threads or None)
    labels = find_labels(model_path, labels_path)
    input_path = Path(input_path)
    prelabels = None if prelabel_format == "none" else PrelabelWriter(output_dir, prelabel_format, labels,
                                                                      score_threshold)
    rows, frames, pictures, latencies = [], [], [], []
    for frame in tqdm(iter_frames(input_path, every), total=count_frames(input_path), desc="predict",
                      unit="img", disable=not progress):
        started = time.perf_counter()
        det = detector.detect(frame.image)
        latency = 1000.0 * (time.perf_counter() - started)
        latencies.append(latency)
        if prelabels is not None:
            source = None if is_video(input_path) else input_path / frame.source if input_path.is_dir() else input_path
            prelabels.add(frame, source, det)
        det = det.above(score_threshold)
        boxes, classes, scores = det.boxes, det.classes, det.scores
        height, width = frame.image.shape[:2]
        frames.append({"source": frame.source, "frame": frame.index, "width": width, "height": height,
                       "num_detections": len(det), "latency_ms": round(latency, 3)})
        for box, cls, score in zip(boxes, classes, scores):
            ymin, xmin, ymax, xmax = (float(v) for v in box)
            rows.append({"source": frame.source, "frame": frame.index, "class_id": int(cls),
                         "class_name": labels.get(int(cls), str(int(cls))), "score": round(float(score), 5),
                         "ymin": round(ymin, 5), "xmin": round(xmin, 5), "ymax": round(ymax, 5),
                         "xmax": round(xmax, 5), "xmin_px": round(xmin * width), "ymin_px": round(ymin * height),
                         "xmax_px": round(xmax * width), "ymax_px": round(ymax * height)})
        if draw:
            stem = Path(frame.source).stem + (f"_frame{frame.index:06d}" if is_video(input_path) else "")
            picture = output_dir / "images" / f"{stem}.jpg"
            draw_detections(frame.image, np.zeros((0, 4)), boxes, classes, scores, labels,
                            score_threshold).save(picture, quality=90)
            pictures.append(picture)
    if not frames:
        raise ValueError(f"{input_path}: no frames to run on")
    frames_path = _write_csv(output_dir / "frames.csv", frames)
    if output_format == "csv":
        columns = ["source", "frame", "class_id", "class_name", "score", "ymin", "xmin", "ymax", "xmax",
                   "xmin_px", "ymin_px", "xmax_px", "ymax_px"]
        detections_path = _write_csv(output_dir / "detections.csv", rows, columns)
    else:
        by_frame = [{**f, "detections": [r for r in rows if (r["source"], r["frame"]) == (f["source"], f["frame"])]}
                    for f in frames]
        detections_path = output_dir / "detections.json"
        detections_path.write_text(json.dumps(by_frame, indent=1))
    timed = np.asarray(latencies[1:] or latencies)  # the first call includes one-off allocation
    latency = {"median": float(np.median(timed)), "mean": float(timed.mean()),
               "p90": float(np.percentile(timed, 90)), "first": float(latencies[0])}
    result = PredictResult(output_dir=output_dir, detections_path=detections_path, frames_path=frames_path,
                           pictures=pictures, num_frames=len(frames), num_detections=len(rows),
                           latency_ms=latency, kind=detector.kind, notice=detector.notice)
    if prelabels is not None:
        result.prelabel_dir, result.ranking_path = prelabels.folder, prelabels.write_ranking()
        result.num_prelabels = prelabels.num_boxes
    return result


def _write_csv(path, rows, columns=None):
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path

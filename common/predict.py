"""Run any exported detector on a folder of images or a video: annotated pictures, detections, latency.

Models: a SavedModel folder (``serving_default``, uint8 image of any size), a ``.tflite`` detector on the CPU
through ``ai_edge_litert``, or an Edge TPU-compiled ``*_edgetpu.tflite`` through the Edge TPU delegate
(``load_delegate('libedgetpu.so.1')``, Coral docs), which needs Coral's runtime and a device.
"""
import csv
from dataclasses import dataclass, field
import json
from pathlib import Path
import time

import numpy as np
from tqdm import tqdm

from common.evaluation.drawing import draw_detections
from common.export import edgetpu_runtime_available, make_interpreter, run_tflite_detector
from common.label_map import read_labels_txt
from common.media import count_frames, is_video, iter_frames

FORMATS = ("csv", "json")
DEVICES = ("auto", "cpu", "edgetpu")
EDGETPU_ABSENT = "Edge TPU runtime (libedgetpu.so.1) not found or no Edge TPU attached"


@dataclass
class Detector:
    """A loaded model: ``detect(uint8 [H, W, 3]) -> dict`` of ``boxes`` float32 [M, 4] (ymin, xmin, ymax,
    xmax normalized to [0, 1]), ``classes`` int32 [M] label-map ids, ``scores`` float32 [M]."""

    detect: object
    kind: str  # "saved_model", "tflite_cpu" or "tflite_edgetpu"
    labels: dict  # label-map id -> name
    notice: str = ""  # one line for the user (e.g. the Edge TPU runtime is absent)


def _find_labels(model_path, labels_path):
    if labels_path:
        return read_labels_txt(labels_path)
    for folder in (model_path if model_path.is_dir() else model_path.parent, model_path.parent):
        if (folder / "labels.txt").is_file():
            return read_labels_txt(folder / "labels.txt")
    return {}


def load_detector(model_path, labels_path=None, device="auto", num_threads=None):
    """Load a SavedModel folder or a ``.tflite`` file for prediction.

    Args:
      model_path: SavedModel folder, ``.tflite`` or ``*_edgetpu.tflite``.
      labels_path: ``labels.txt``; default: one beside the model, else class ids are shown.
      device: ``auto`` (the Edge TPU for a compiled model, else the CPU), ``cpu`` or ``edgetpu``.
      num_threads: CPU threads for TFLite, or None.

    Returns:
      Detector.

    Raises:
      FileNotFoundError: no such model. ValueError: not a SavedModel or ``.tflite``, or an unknown device.
      RuntimeError: a compiled model without the Edge TPU runtime (the message says so in one line).
    """
    model_path = Path(model_path)
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if not model_path.exists():
        raise FileNotFoundError(f"no model at {model_path}")
    labels = _find_labels(model_path, labels_path)
    if model_path.is_dir():
        if not (model_path / "saved_model.pb").is_file():
            raise ValueError(f"{model_path} is a folder without saved_model.pb: not a SavedModel")
        import tensorflow as tf

        serve = tf.saved_model.load(str(model_path)).signatures["serving_default"]

        def detect(image):
            out = serve(input_tensor=tf.convert_to_tensor(image[np.newaxis]))
            n = int(out["num_detections"][0])
            return {"boxes": out["detection_boxes"][0, :n].numpy(),
                    "classes": out["detection_classes"][0, :n].numpy().astype(np.int32),
                    "scores": out["detection_scores"][0, :n].numpy()}

        return Detector(detect, "saved_model", labels)
    if model_path.suffix != ".tflite":
        raise ValueError(f"{model_path}: expected a SavedModel folder or a .tflite file")
    compiled = model_path.name.endswith("_edgetpu.tflite")
    notice = ""
    use_edgetpu = compiled and device != "cpu" or device == "edgetpu"
    if use_edgetpu and not edgetpu_runtime_available():
        if compiled:
            raise RuntimeError(f"{EDGETPU_ABSENT}: {model_path.name} is compiled for the Edge TPU and cannot "
                               f"run without it; run the CPU model (model_int8.tflite) instead")
        notice = f"{EDGETPU_ABSENT}: running {model_path.name} on the CPU"
        use_edgetpu = False
    interpreter = make_interpreter(model_path, edgetpu=use_edgetpu, num_threads=num_threads)

    def detect(image):
        out = run_tflite_detector(interpreter, image)
        return {"boxes": out["boxes"], "classes": out["classes"] + 1, "scores": out["scores"]}

    return Detector(detect, "tflite_edgetpu" if use_edgetpu else "tflite_cpu", labels, notice)


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


def predict(model_path, input_path, output_dir, labels_path=None, score_threshold=0.3, fmt="csv",
            device="auto", num_threads=None, every=1, draw=True, progress=True):
    """Detect objects in every image of a folder (or an image, or a video), writing pictures and detections.

    Args:
      model_path: see ``load_detector``.
      input_path: image file, folder of images, or video file (see ``common.media``).
      output_dir: destination: ``detections.csv`` or ``detections.json``, ``frames.csv`` (one row per
        frame: size, detections kept, latency in ms) and ``images/`` (annotated JPEGs) when ``draw``.
      labels_path: optional ``labels.txt``.
      score_threshold: detections below it are dropped (the model's own threshold applies first).
      fmt: ``csv`` (one row per detection) or ``json`` (one object per frame).
      device, num_threads: see ``load_detector``.
      every: keep one video frame in ``every``.
      draw: write annotated pictures.
      progress: show a progress bar.

    Returns:
      PredictResult. Latency is the wall time of the model call alone, per frame, in milliseconds.

    Raises:
      ValueError: an unknown format, bad input; see also ``load_detector``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    output_dir = Path(output_dir)
    (output_dir / "images").mkdir(parents=True, exist_ok=True)
    detector = load_detector(model_path, labels_path, device, num_threads)
    rows, frames, pictures, latencies = [], [], [], []
    for frame in tqdm(iter_frames(input_path, every), total=count_frames(input_path), desc="predict",
                      unit="img", disable=not progress):
        started = time.perf_counter()
        det = detector.detect(frame.image)
        latency = 1000.0 * (time.perf_counter() - started)
        latencies.append(latency)
        keep = det["scores"] >= score_threshold
        boxes, classes, scores = det["boxes"][keep], det["classes"][keep], det["scores"][keep]
        height, width = frame.image.shape[:2]
        frames.append({"source": frame.source, "frame": frame.index, "width": width, "height": height,
                       "num_detections": int(keep.sum()), "latency_ms": round(latency, 3)})
        for box, cls, score in zip(boxes, classes, scores):
            ymin, xmin, ymax, xmax = (float(v) for v in box)
            rows.append({"source": frame.source, "frame": frame.index, "class_id": int(cls),
                         "class_name": detector.labels.get(int(cls), str(int(cls))), "score": round(float(score), 5),
                         "ymin": round(ymin, 5), "xmin": round(xmin, 5), "ymax": round(ymax, 5),
                         "xmax": round(xmax, 5), "xmin_px": round(xmin * width), "ymin_px": round(ymin * height),
                         "xmax_px": round(xmax * width), "ymax_px": round(ymax * height)})
        if draw:
            stem = Path(frame.source).stem + (f"_frame{frame.index:06d}" if is_video(input_path) else "")
            picture = output_dir / "images" / f"{stem}.jpg"
            draw_detections(frame.image, np.zeros((0, 4)), boxes, classes, scores, detector.labels,
                            score_threshold).save(picture, quality=90)
            pictures.append(picture)
    if not frames:
        raise ValueError(f"{input_path}: no frames to run on")
    frames_path = _write_csv(output_dir / "frames.csv", frames)
    if fmt == "csv":
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
    return PredictResult(output_dir=output_dir, detections_path=detections_path, frames_path=frames_path,
                         pictures=pictures, num_frames=len(frames), num_detections=len(rows),
                         latency_ms=latency, kind=detector.kind, notice=detector.notice)


def _write_csv(path, rows, columns=None):
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path

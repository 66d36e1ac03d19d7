"""The evaluation step's work: detect on the test split, compute COCO metrics, draw the detections."""
from dataclasses import dataclass
import json
from pathlib import Path

from common.evaluation.coco_metrics import coco_metrics
from common.evaluation.detect import detect_records, keras_detect_fn
from common.evaluation.drawing import contact_sheet, draw_detections
from common.label_map import read_label_map
from common.train import load_trained_detector

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "coco_summary.txt"
PICTURE_FILE = "test_detections.png"


@dataclass
class EvaluationResult:
    """Metrics (names as in ``coco_metrics``) and the files written."""

    metrics: dict
    metrics_path: Path
    summary_path: Path
    picture_path: Path
    num_images: int


def evaluate_detector(model_dir, test_record, label_map_path, output_dir, max_pictures=8, progress=True):
    """Evaluate a trained detector on a TFRecord split.

    Args:
      model_dir: folder written by ``common.train.train`` (``detector.json``, ``model.weights.h5``).
      test_record: str, TFRecord of the test split.
      label_map_path: the ``label_map.pbtxt`` the records were written with.
      output_dir: folder for ``metrics.json``, ``coco_summary.txt`` and ``test_detections.png``.
      max_pictures: number of test images drawn in the picture.
      progress: show a progress bar.

    Returns:
      EvaluationResult.

    Raises:
      FileNotFoundError: a missing model file or record; ValueError: an empty test split.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not Path(test_record).is_file():
        raise FileNotFoundError(f"test records not found: {test_record}")
    names_to_ids = read_label_map(label_map_path)
    model, config = load_trained_detector(model_dir)
    results = detect_records(keras_detect_fn(model, config), str(test_record), config.image_size,
                             keep_images=True, progress=progress)
    if not results:
        raise ValueError(f"{test_record} holds no images: nothing to evaluate")
    metrics, text = coco_metrics(results, names_to_ids)
    ids_to_names = {i: n for n, i in names_to_ids.items()}
    pictures = [draw_detections(r["image"], r["gt_boxes"], r["det_boxes"], r["det_classes"], r["det_scores"],
                                ids_to_names) for r in results[:max_pictures]]
    picture_path = output_dir / PICTURE_FILE
    contact_sheet(pictures).save(picture_path)
    metrics_path = output_dir / METRICS_FILE
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    summary_path = output_dir / SUMMARY_FILE
    summary_path.write_text(text)
    return EvaluationResult(metrics=metrics, metrics_path=metrics_path, summary_path=summary_path,
                            picture_path=picture_path, num_images=len(results))

"""The evaluation step's work: detect on the test split with every requested form of the model, compute COCO
metrics, the cost of int8 quantization, and the pictures a user needs to see where the detector fails."""
from dataclasses import dataclass, field
import json
from pathlib import Path
import tempfile

import numpy as np

from edgetpu_detector.data.label_map import read_label_map
from edgetpu_detector.evaluation.coco_metrics import coco_evaluation
from edgetpu_detector.evaluation.confusion import confusion_matrix, image_errors
from edgetpu_detector.evaluation.detect import detect_records
from edgetpu_detector.evaluation.forms import EVAL_NMS, build_detectors
from edgetpu_detector.evaluation.plots import plot_confusion_matrix, plot_pr_curves, plot_score_histogram
from edgetpu_detector.export.calibration import representative_images
from edgetpu_detector.images.drawing import contact_sheet, draw_detections
from edgetpu_detector.ssd.checkpoint import load_trained_detector
from edgetpu_detector.ssd.postprocess import NMSConfig

METRICS_FILE = "metrics.json"
PICTURE_FILE = "test_detections.png"
PR_CURVES_FILE = "pr_curves.png"
CONFUSION_FILE = "confusion_matrix.png"
SCORES_FILE = "score_histogram.png"


@dataclass
class EvaluationResult:
    """Metrics per form (names as in ``coco_metrics`` plus ``ms_per_image``), derived metrics
    (``int8_ap_drop``, ``int8_ap50_drop``, in AP points), and the files written."""

    metrics: dict  # form -> {metric name -> value}
    derived: dict
    output_dir: Path
    num_images: int
    files: list = field(default_factory=list)
    num_difficult: int = 0  # difficult ground-truth boxes in the test split ("don't care" in every metric)

    @property
    def primary(self):
        """Metrics of the first evaluated form (``keras`` unless it was left out)."""
        return next(iter(self.metrics.values()))

    def mlflow_metrics(self):
        """``{name: value}`` as the evaluate run logs them: ``eval/<metric>`` of the primary form,
        ``eval/<form>/<metric>`` of each form, the derived ``eval/int8_*`` drops, ``eval/num_images`` and
        ``eval/difficult_boxes``."""
        metrics = {f"eval/{name}": value for name, value in self.primary.items()}
        for form, values in self.metrics.items():
            metrics.update({f"eval/{form}/{name}": value for name, value in values.items()})
        metrics.update({f"eval/{name}": value for name, value in self.derived.items()})
        metrics["eval/num_images"] = self.num_images
        metrics["eval/difficult_boxes"] = self.num_difficult
        return metrics

    def summary(self):
        """Console lines: each form's headline figures and the cost of int8 quantization."""
        lines = [f"evaluate: {form:>12}: mAP@[.5:.95] {v['mAP']:.3f}, AP50 {v['AP50']:.3f}, AP75 {v['AP75']:.3f}, "
                 f"{v['ms_per_image']:.1f} ms/image" for form, v in self.metrics.items()]
        if self.num_difficult:
            lines.append(f"evaluate: {self.num_difficult} difficult boxes in the test split, ignored "
                         "(a detection on one is neither a true nor a false positive)")
        if self.derived:
            lines.append(f"evaluate: int8 quantization cost: {self.derived['int8_ap_drop']:+.2f} mAP points, "
                         f"{self.derived['int8_ap50_drop']:+.2f} AP50 points")
        return lines


def quantization_drop(metrics):
    """Cost of int8 quantization in AP points (100 x AP difference), float TFLite (or Keras) minus int8 TFLite.

    Returns:
      dict with ``int8_ap_drop`` (mAP@[.5:.95]) and ``int8_ap50_drop``; empty when ``int8_tflite`` or a
      float reference form was not evaluated.
    """
    reference = metrics.get("float_tflite") or metrics.get("keras") or metrics.get("saved_model")
    if "int8_tflite" not in metrics or reference is None:
        return {}
    int8 = metrics["int8_tflite"]
    return {"int8_ap_drop": 100.0 * (reference["mAP"] - int8["mAP"]),
            "int8_ap50_drop": 100.0 * (reference["AP50"] - int8["AP50"])}


def evaluate_detector(model_dir, test_record, label_map_path, output_dir, forms=("keras",), train_record=None,
                      num_calibration_images=100, iou_threshold=EVAL_NMS.iou_threshold, max_pictures=12,
                      picture_score_threshold=0.3, progress=True):
    """Evaluate a trained detector, in one or more exported forms, on a TFRecord split.

    Every form sees the same resized uint8 pixels and uses score threshold 0 with up to 100 detections.

    Args:
      model_dir: folder written by the retrain step (``detector.json``, ``model.weights.h5``).
      test_record: str, TFRecord of the test split.
      label_map_path: the ``label_map.pbtxt`` the records were written with.
      output_dir: folder for ``metrics.json``, ``coco_summary_<form>.txt`` and the pictures.
      forms: names from ``edgetpu_detector.evaluation.forms.FORMS``; the first is the primary form, whose
        detections are drawn and charted.
      train_record: TFRecord of the training split, required for ``int8_tflite`` (its first
        ``num_calibration_images`` images calibrate the quantization, as in the convert step).
      num_calibration_images: int.
      iou_threshold: NMS IoU threshold of every form.
      max_pictures: number of test images drawn, worst first (most missed objects, false alarms and
        wrong classes at ``picture_score_threshold`` and IoU 0.5).
      picture_score_threshold: detections drawn and counted in the confusion matrix at or above this score.
      progress: show progress bars.

    Returns:
      EvaluationResult.

    Raises:
      FileNotFoundError: a missing model file or record; ValueError: an empty test split, an unknown
      form, or ``int8_tflite`` without ``train_record``.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for record in (test_record, train_record):
        if record is not None and not Path(record).is_file():
            raise FileNotFoundError(f"records not found: {record}")
    names_to_ids = read_label_map(label_map_path)
    model, config = load_trained_detector(model_dir)
    calibration = None
    if "int8_tflite" in forms:
        if train_record is None:
            raise ValueError("int8_tflite evaluation needs train_record for its calibration images")
        calibration = representative_images(train_record, num_calibration_images)
    nms = NMSConfig(score_threshold=EVAL_NMS.score_threshold, iou_threshold=iou_threshold,
                    max_detections=EVAL_NMS.max_detections,
                    max_detections_per_class=EVAL_NMS.max_detections_per_class)
    metrics, results_by_form, files = {}, {}, []
    with tempfile.TemporaryDirectory(prefix="eval-forms-") as work_dir:  # exported forms, not artifacts
        detectors = build_detectors(model, config, forms, work_dir, calibration, nms)
        for index, (form, detector) in enumerate(detectors.items()):
            results = detect_records(detector, str(test_record), config.image_size, keep_images=index == 0,
                                     progress=progress)
            if not results:
                raise ValueError(f"{test_record} holds no images: nothing to evaluate")
            evaluation = coco_evaluation(results, names_to_ids)
            seconds = [r["seconds"] for r in results[1:]] or [results[0]["seconds"]]  # first call warms up
            metrics[form] = {**evaluation.metrics, "ms_per_image": 1000.0 * float(np.median(seconds))}
            summary = output_dir / f"coco_summary_{form}.txt"
            summary.write_text(evaluation.text)
            files.append(summary)
            results_by_form[form] = (results, evaluation)

    primary_form = next(iter(results_by_form))
    results, evaluation = results_by_form[primary_form]
    class_names = [n for n, _ in sorted(names_to_ids.items(), key=lambda kv: kv[1])]
    files.append(plot_pr_curves(evaluation, output_dir / PR_CURVES_FILE))
    matrix = confusion_matrix(results, max(names_to_ids.values()), picture_score_threshold)
    files.append(plot_confusion_matrix(matrix, class_names, output_dir / CONFUSION_FILE,
                                       picture_score_threshold, 0.5))
    files.append(plot_score_histogram(evaluation.tp_scores, evaluation.fp_scores, output_dir / SCORES_FILE))
    ids_to_names = {i: n for n, i in names_to_ids.items()}
    worst_first = sorted(results, key=lambda r: -image_errors(r, picture_score_threshold))
    pictures = [draw_detections(r["image"], r["gt_boxes"], r["det_boxes"], r["det_classes"], r["det_scores"],
                                ids_to_names, picture_score_threshold) for r in worst_first[:max_pictures]]
    picture_path = output_dir / PICTURE_FILE
    contact_sheet(pictures).save(picture_path)
    files.append(picture_path)

    derived = quantization_drop(metrics)
    report = {"forms": metrics, "derived": derived, "primary_form": primary_form,
              "confusion_matrix": {"labels": ["background"] + class_names, "rows_true_columns_predicted":
                                   matrix.tolist(), "score_threshold": picture_score_threshold,
                                   "iou_threshold": 0.5},
              "num_images": len(results), "difficult_boxes": evaluation.num_difficult}
    metrics_path = output_dir / METRICS_FILE
    metrics_path.write_text(json.dumps(report, indent=2, sort_keys=True))
    files.append(metrics_path)
    return EvaluationResult(metrics=metrics, derived=derived, output_dir=output_dir, num_images=len(results),
                            files=files, num_difficult=evaluation.num_difficult)

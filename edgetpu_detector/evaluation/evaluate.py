"""The evaluation step's work: detect on the test split with every requested form of the model -- the deployed
int8 model first, as exported by the convert step -- compute COCO metrics, the gaps between forms, and the
pictures a user needs to see where the detector fails."""
import json
from pathlib import Path

import numpy as np

from edgetpu_detector.data.label_map import read_label_map
from edgetpu_detector.evaluation.coco_metrics import coco_evaluation
from edgetpu_detector.evaluation.confusion import confusion_matrix, image_errors
from edgetpu_detector.evaluation.detect import detect_records
from edgetpu_detector.evaluation.forms import FORMS, load_forms
from edgetpu_detector.evaluation.plots import plot_confusion_matrix, plot_pr_curves, plot_score_histogram
from edgetpu_detector.evaluation.result import EvaluationResult, form_gaps
from edgetpu_detector.export.deployment import Deployment
from edgetpu_detector.images.drawing import contact_sheet, draw_detections
from edgetpu_detector.ssd.checkpoint import read_detector_config

METRICS_FILE = "metrics.json"
PICTURE_FILE = "test_detections.png"
PR_CURVES_FILE = "pr_curves.png"
CONFUSION_FILE = "confusion_matrix.png"
SCORES_FILE = "score_histogram.png"


def evaluate_detector(export_dir, model_dir, test_record, label_map_path, output_dir, forms=FORMS, max_pictures=12,
                      progress=True):
    """Evaluate the exported detector, in one or more forms, on a TFRecord split.

    Every form sees the same resized uint8 pixels and keeps its deployed post-processing (every output slot,
    ``deployment.json``); the first form evaluated (the deployed int8 model by default) gives the headline
    figures, the pictures and the charts.

    Args:
      export_dir: the convert step's ``export/`` folder.
      model_dir: the retrain step's ``model/`` folder (the ``keras`` form).
      test_record: str, TFRecord of the test split.
      label_map_path: the ``label_map.pbtxt`` the records were written with.
      output_dir: folder for ``metrics.json``, ``coco_summary_<form>.txt`` and the pictures.
      forms: names from ``edgetpu_detector.evaluation.forms.FORMS``.
      max_pictures: number of test images drawn, worst first (most missed objects, false alarms and
        wrong classes at the deployment's score threshold and IoU 0.5).
      progress: show progress bars.

    Returns:
      EvaluationResult.

    Raises:
      FileNotFoundError: a missing export or record; ValueError: an empty test split or an unknown form.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not Path(test_record).is_file():
        raise FileNotFoundError(f"records not found: {test_record}")
    names_to_ids = read_label_map(label_map_path)
    picture_score_threshold = Deployment.read(Path(export_dir)).score_threshold
    image_size = read_detector_config(model_dir).image_size
    metrics, results_by_form, files = {}, {}, []
    for index, (form, detector) in enumerate(load_forms(export_dir, model_dir, forms).items()):
        results = detect_records(detector, str(test_record), image_size, keep_images=index == 0,
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

    headline_form = next(iter(results_by_form))
    results, evaluation = results_by_form[headline_form]
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

    derived = form_gaps(metrics)
    report = {"forms": metrics, "derived": derived, "headline_form": headline_form,
              "confusion_matrix": {"labels": ["background"] + class_names, "rows_true_columns_predicted":
                                   matrix.tolist(), "score_threshold": picture_score_threshold,
                                   "iou_threshold": 0.5},
              "num_images": len(results), "difficult_boxes": evaluation.num_difficult}
    metrics_path = output_dir / METRICS_FILE
    metrics_path.write_text(json.dumps(report, indent=2, sort_keys=True))
    files.append(metrics_path)
    return EvaluationResult(metrics=metrics, derived=derived, output_dir=output_dir, num_images=len(results),
                            files=files, num_difficult=evaluation.num_difficult)

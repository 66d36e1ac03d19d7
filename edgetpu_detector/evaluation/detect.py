"""Run a detector over a test split, keeping the ground truth beside the detections."""
import time

from tqdm import tqdm

from edgetpu_detector.evaluation.dataset import evaluation_dataset


def detect_records(detector, record_path, image_size, keep_images=False, progress=True):
    """Run ``detector`` on every image of a TFRecord file.

    Args:
      detector: an ``edgetpu_detector.inference`` Detector (``detect(uint8 [S, S, 3]) -> Detections``).
      record_path: str (or list of str), TFRecord in the TF OD API schema.
      image_size: int, the model's square input side S.
      keep_images: keep each original uint8 [H, W, 3] image under ``image`` (for drawing).
      progress: show a progress bar.

    Returns:
      list of dicts (one per image, in record order) with ``filename``, ``height``, ``width``,
      ``gt_boxes``, ``gt_classes``, ``gt_difficult``, ``det_boxes``, ``det_classes``, ``det_scores`` (see
      ``edgetpu_detector.evaluation.coco_metrics.coco_metrics``), ``seconds`` (time spent in ``detector.detect``) and
      optionally ``image``.
    """
    results = []
    for example in tqdm(evaluation_dataset(record_path, image_size), desc="evaluate", unit="img",
                        disable=not progress):
        pixels = example["image"].numpy()
        started = time.perf_counter()
        det = detector.detect(pixels)
        seconds = time.perf_counter() - started
        entry = {"filename": example["filename"].numpy().decode("utf-8"),
                 "height": int(example["height"]), "width": int(example["width"]),
                 "gt_boxes": example["boxes"].numpy(), "gt_classes": example["classes"].numpy(),
                 "gt_difficult": example["difficult"].numpy(),
                 "det_boxes": det.boxes, "det_classes": det.classes, "det_scores": det.scores,
                 "seconds": seconds}
        if keep_images:
            entry["image"] = example["original"].numpy()
        results.append(entry)
    return results

"""Run a detector over a test split, keeping the ground truth beside the detections."""
import time

from tqdm import tqdm

from common.input_pipeline import evaluation_dataset


def detect_records(detect_fn, record_path, image_size, keep_images=False, progress=True):
    """Apply ``detect_fn`` to every image of a TFRecord file.

    Args:
      detect_fn: ``fn(uint8 [S, S, 3]) -> dict`` of ``boxes``, ``classes`` (label-map ids), ``scores``
        (see ``common.evaluation.model_forms``).
      record_path: str, TFRecord in the TF OD API schema.
      image_size: int, the model's square input side S.
      keep_images: keep each original uint8 [H, W, 3] image under ``image`` (for drawing).
      progress: show a progress bar.

    Returns:
      list of dicts (one per image, in record order) with ``filename``, ``height``, ``width``,
      ``gt_boxes``, ``gt_classes``, ``det_boxes``, ``det_classes``, ``det_scores`` (see
      ``common.evaluation.coco_metrics.coco_metrics``), ``seconds`` (time spent in ``detect_fn``) and
      optionally ``image``.
    """
    results = []
    for example in tqdm(evaluation_dataset(record_path, image_size), desc="evaluate", unit="img",
                        disable=not progress):
        pixels = example["image"].numpy()
        started = time.perf_counter()
        det = detect_fn(pixels)
        seconds = time.perf_counter() - started
        entry = {"filename": example["filename"].numpy().decode("utf-8"),
                 "height": int(example["height"]), "width": int(example["width"]),
                 "gt_boxes": example["boxes"].numpy(), "gt_classes": example["classes"].numpy(),
                 "det_boxes": det["boxes"], "det_classes": det["classes"], "det_scores": det["scores"],
                 "seconds": seconds}
        if keep_images:
            entry["image"] = example["original"].numpy()
        results.append(entry)
    return results

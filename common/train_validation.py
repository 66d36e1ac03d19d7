"""Validation mAP during training, through the evaluation package (``common.evaluation``)."""
from common.evaluation.coco_metrics import coco_metrics
from common.evaluation.detect import detect_records
from common.evaluation.model_forms import keras_detect_fn


def validation_metrics(model, config, record_path, names_to_ids, detect_fn=None):
    """COCO metrics of ``model`` on a TFRecord split.

    Args:
      model: keras.Model from ``common.models.build_detector``.
      config: its DetectorConfig.
      record_path: str, TFRecord in the TF OD API schema.
      names_to_ids: dict class name -> label-map id.
      detect_fn: ``keras_detect_fn(model, config)`` built once by the caller (saves a retrace per call).

    Returns:
      dict ``val/mAP``, ``val/AP50``, ``val/AP75`` (floats in [0, 1]; COCO mAP@[.5:.95], AP at IoU 0.5, 0.75).
    """
    detect_fn = detect_fn or keras_detect_fn(model, config)
    results = detect_records(detect_fn, record_path, config.image_size, progress=False)
    metrics, _ = coco_metrics(results, names_to_ids)
    return {f"val/{name}": max(float(metrics[name]), 0.0) for name in ("mAP", "AP50", "AP75")}

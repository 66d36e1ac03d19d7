"""Validation during training: COCO mAP on a held-out split every N steps, keep-best weights and early
stopping, with their state in the checkpoint so that a resumed run continues where it stopped."""
import json

import tensorflow as tf

from edgetpu_detector.core.atomic import atomic_write_text
from edgetpu_detector.evaluation.coco_metrics import coco_metrics
from edgetpu_detector.evaluation.detect import detect_records
from edgetpu_detector.inference.keras_detector import KerasDetector
from edgetpu_detector.ssd.checkpoint import save_weights

BEST_WEIGHTS_FILE = "best.weights.h5"
BEST_FILE = "best.json"


def validation_metrics(detector, record_paths, image_size, names_to_ids):
    """COCO metrics of a detector on a TFRecord split.

    Args:
      detector: ``edgetpu_detector.inference`` Detector (e.g. ``KerasDetector``).
      record_paths: str or list of str, TFRecords in the TF OD API schema.
      image_size: int, the model's square input side.
      names_to_ids: dict class name -> label-map id.

    Returns:
      dict ``val/mAP``, ``val/AP50``, ``val/AP75`` (floats in [0, 1]; COCO mAP@[.5:.95], AP at IoU 0.5, 0.75).
    """
    results = detect_records(detector, record_paths, image_size, progress=False)
    metrics, _ = coco_metrics(results, names_to_ids)
    return {f"val/{name}": max(float(metrics[name]), 0.0) for name in ("mAP", "AP50", "AP75")}


class Validator:
    """Validation mAP every ``config.validation_every`` steps (``every``: in proportion to a re-planned run),
    keeping the best weights and counting the validations without improvement (``config.early_stopping_patience``).

    Its tf.Variables (``variables()``) belong in the training checkpoint.
    """

    def __init__(self, model, detector_config, config, record_paths, names_to_ids, output_dir, is_chief=True):
        self.model, self.detector_config, self.config = model, detector_config, config
        self.record_paths, self.output_dir, self.is_chief = record_paths, output_dir, is_chief
        self.names_to_ids = names_to_ids or {str(k): k for k in range(1, detector_config.num_classes + 1)}
        self.enabled = bool(config.validation_every > 0 and record_paths)
        self.every = config.validation_every
        self.best_metric = tf.Variable(-1.0, dtype=tf.float32, trainable=False, name="best_metric")
        self.best_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="best_step")
        self.stale = tf.Variable(0, dtype=tf.int64, trainable=False, name="validations_since_best")
        self._detector = None

    def variables(self):
        """``{checkpoint key: tf.Variable}`` of the validation state."""
        return {"best_metric": self.best_metric, "best_step": self.best_step, "stale": self.stale}

    def due(self, step, planned_steps):
        """True when validation runs at ``step`` of ``planned_steps``: at the last one, and every ``every`` steps
        unless the last one is under half an interval away (a re-planned end: step 1500 of 1501 would validate
        twice)."""
        if not self.enabled:
            return False
        return step >= planned_steps or (step % self.every == 0 and planned_steps - step >= self.every / 2)

    def scale_interval(self, planned_steps):
        """Keep the validations per run when the plan changes (time cap): ``every`` in proportion to
        ``planned_steps`` / ``config.num_steps``."""
        if self.config.validation_every:
            self.every = max(1, round(self.config.validation_every * planned_steps / self.config.num_steps))

    def validate(self, step):
        """Measure ``val/*`` at ``step``, save the weights when they are the best so far.

        Returns:
          (metrics dict, stop: True when early stopping says so).
        """
        if self._detector is None:
            self._detector = KerasDetector(self.model, self.detector_config)  # traced once
        metrics = validation_metrics(self._detector, self.record_paths, self.detector_config.image_size,
                                     self.names_to_ids)
        if metrics["val/mAP"] > float(self.best_metric.numpy()):
            self.best_metric.assign(metrics["val/mAP"])
            self.best_step.assign(step)
            self.stale.assign(0)
            if self.config.keep_best and self.is_chief:
                save_weights(self.model, self.output_dir / BEST_WEIGHTS_FILE)
                atomic_write_text(self.output_dir / BEST_FILE, json.dumps({"step": step, **metrics}, indent=2))
        else:
            self.stale.assign_add(1)
        patience = self.config.early_stopping_patience
        return metrics, bool(patience and int(self.stale.numpy()) >= patience)

    def stop_message(self, step):
        return (f"retrain: early stop at step {step}: val/mAP has not improved for {int(self.stale.numpy())} "
                f"validations (best {float(self.best_metric.numpy()):.3f} at step {int(self.best_step.numpy())})")

    def restore_best(self, step):
        """Load the best validated weights into the model when they are not the current ones.

        Returns:
          the best entry (``{"step", "val/..."}``) or None without validation / keep-best.
        """
        best_file = self.output_dir / BEST_FILE
        if not (self.enabled and self.config.keep_best and best_file.is_file()):
            return None
        best = json.loads(best_file.read_text())
        if best["step"] != step:
            self.model.load_weights(str(self.output_dir / BEST_WEIGHTS_FILE))
        return best

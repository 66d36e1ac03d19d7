"""What the evaluate step measured: metrics per form, the gaps between forms, and the MLflow view of them."""
from dataclasses import dataclass, field
from pathlib import Path


def form_gaps(metrics):
    """Gaps between forms in AP points (100 x AP difference), as the deployed int8 model loses them.

    Returns:
      dict: ``int8_ap_drop`` / ``int8_ap50_drop`` (float TFLite minus int8 TFLite: the cost of
      quantization) and ``keras_gap`` / ``keras_ap50_gap`` (Keras minus int8 TFLite: everything the
      deployed model loses against the model as trained, quantization and post-processing together); each
      present when both forms were evaluated.
    """
    gaps = {}
    int8 = metrics.get("int8_tflite")
    for reference, names in (("float_tflite", ("int8_ap_drop", "int8_ap50_drop")),
                             ("keras", ("keras_gap", "keras_ap50_gap"))):
        if int8 is not None and reference in metrics:
            for name, metric in zip(names, ("mAP", "AP50")):
                gaps[name] = 100.0 * (metrics[reference][metric] - int8[metric])
    return gaps


@dataclass
class EvaluationResult:
    """Metrics per form (names as in ``coco_metrics`` plus ``ms_per_image``) in headline order, the gaps
    between forms (``form_gaps``), and the files written."""

    metrics: dict  # form -> {metric name -> value}
    derived: dict
    output_dir: Path
    num_images: int
    files: list = field(default_factory=list)
    num_difficult: int = 0  # difficult ground-truth boxes in the test split ("don't care" in every metric)

    @property
    def headline_form(self):
        """The form the headline figures are of: the deployed int8 model unless it was left out."""
        return next(iter(self.metrics))

    def mlflow_metrics(self):
        """``{name: value}`` as the evaluate run logs them: ``eval/<metric>`` of the headline form,
        ``eval/<form>/<metric>`` of each form, the gaps ``eval/int8_*`` / ``eval/keras_*``,
        ``eval/num_images`` and ``eval/difficult_boxes``."""
        metrics = {f"eval/{name}": value for name, value in self.metrics[self.headline_form].items()}
        for form, values in self.metrics.items():
            metrics.update({f"eval/{form}/{name}": value for name, value in values.items()})
        metrics.update({f"eval/{name}": value for name, value in self.derived.items()})
        metrics["eval/num_images"] = self.num_images
        metrics["eval/difficult_boxes"] = self.num_difficult
        return metrics

    def summary(self):
        """Console lines: each form's headline figures and the gaps."""
        lines = [f"evaluate: {form:>12}: mAP@[.5:.95] {v['mAP']:.3f}, AP50 {v['AP50']:.3f}, AP75 {v['AP75']:.3f}, "
                 f"{v['ms_per_image']:.1f} ms/image" + ("  (headline: the deployed model)"
                                                        if form == self.headline_form == "int8_tflite" else "")
                 for form, v in self.metrics.items()]
        if self.num_difficult:
            lines.append(f"evaluate: {self.num_difficult} difficult boxes in the test split, ignored "
                         "(a detection on one is neither a true nor a false positive)")
        if "int8_ap_drop" in self.derived:
            lines.append(f"evaluate: int8 quantization cost: {self.derived['int8_ap_drop']:+.2f} mAP points, "
                         f"{self.derived['int8_ap50_drop']:+.2f} AP50 points")
        if "keras_gap" in self.derived:
            lines.append(f"evaluate: Keras model minus the deployed model: {self.derived['keras_gap']:+.2f} mAP "
                         f"points, {self.derived['keras_ap50_gap']:+.2f} AP50 points")
        return lines

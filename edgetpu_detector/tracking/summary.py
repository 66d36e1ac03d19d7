"""What the pipeline's parent run shows in the MLflow UI: the steps' headline metrics, tags and a note.

The runs table then answers "which settings gave the best Edge TPU model" without opening child runs:
sort by ``eval/mAP`` (the accuracy of the deployed int8 model, the one that goes to the Edge TPU), read
``edgetpu_compiler`` / ``edgetpu_compat_verdict`` (will it compile, does everything map), and compare the
parameters (all of them are on the parent run).
"""
# Metrics copied from the step runs onto the parent run (when the step logged them).
SUMMARY_METRICS = (
    "data/train_images", "data/test_images", "data/train_boxes",
    "train/loss", "train/seconds", "val/best_mAP",
    "eval/mAP", "eval/AP50", "eval/AP75",
    "eval/int8_tflite/mAP", "eval/int8_tflite/AP50", "eval/int8_tflite/ms_per_image",
    "eval/keras/mAP", "eval/keras/AP50", "eval/float_tflite/mAP",
    "eval/int8_ap_drop", "eval/int8_ap50_drop", "eval/keras_gap", "eval/keras_ap50_gap",
    "convert/int8_size_bytes", "convert/max_detections", "edgetpu_compat/ops_mapped", "edgetpu_compat/ops_total",
)
SUMMARY_PREFIXES = ("convert/edgetpu_",)  # the compiler's own figures, when it ran
# Tags copied from a step run onto the parent run: {parent tag: (step, step tag)}.
SUMMARY_TAGS = {
    "dataset": ("preprocess", "dataset"),
    "dataset_name": ("preprocess", "dataset_name"),
    "dataset_fingerprint": ("preprocess", "dataset_fingerprint"),
    "base_weights_kind": ("retrain", "base_weights_kind"),
    "edgetpu_compiler": ("convert", "edgetpu_compiler"),
    "edgetpu_compat_verdict": ("convert", "edgetpu_compat_verdict"),
    "edgetpu_compat_fits_on_chip": ("convert", "edgetpu_compat_fits_on_chip"),
}


def parent_metrics(runs):
    """``{metric: value}`` for the parent run from ``runs`` (``{step: mlflow Run}``): the latest value of
    each ``SUMMARY_METRICS`` / ``SUMMARY_PREFIXES`` metric found in a step run."""
    metrics = {}
    for run in runs.values():
        for key, value in run.data.metrics.items():
            if key in SUMMARY_METRICS or key.startswith(SUMMARY_PREFIXES):
                metrics[key] = value
    return metrics


def parent_tags(runs, results):
    """``{tag: str}`` for the parent run: ``<step>_run_id`` for each step, ``reused_steps``, and the
    ``SUMMARY_TAGS`` (``edgetpu_compiler`` is ``unknown`` when the convert run lacks it)."""
    tags = {f"{name}_run_id": run.info.run_id for name, run in runs.items()}
    tags["reused_steps"] = ",".join(name for name, result in results.items() if result.reused) or "none"
    for tag, (step, source) in SUMMARY_TAGS.items():
        value = runs[step].data.tags.get(source) if step in runs else None
        if value is not None:
            tags[tag] = value
    tags.setdefault("edgetpu_compiler", "unknown")
    return tags


def registry_tags(tags, metrics):
    """Tags of a registered model version: what a user needs to pick it (compiler outcome, compatibility,
    base model, dataset) and the evaluation figures (``eval/*``, 4 decimals)."""
    return {**{k: tags[k] for k in ("edgetpu_compiler", "edgetpu_compat_verdict", "base_model", "dataset_fingerprint")
               if k in tags},
            **{k: f"{v:.4f}" for k, v in metrics.items() if k.startswith("eval/")}}


def summary_note(runs, results, metrics, tags):
    """Markdown for the parent run's description (``mlflow.note.content``): one line per step (run id,
    ran or reused) and the headline figures."""
    lines = ["**Edge TPU detector pipeline**", ""]
    for name, run in runs.items():
        lines.append(f"- {name}: run `{run.info.run_id}` ({'reused from the cache' if results[name].reused else 'ran'})")
    lines.append("")
    lines.append("Headline figures: the deployed int8 model (`eval/mAP`), with the Keras model and the gaps as diagnostics.")
    lines.append("")
    for key in ("eval/mAP", "eval/AP50", "eval/keras/mAP", "eval/keras_gap", "eval/int8_ap_drop"):
        if key in metrics:
            lines.append(f"- `{key}`: {metrics[key]:.4f}")
    lines.append(f"- Edge TPU: compiler `{tags.get('edgetpu_compiler')}`, "
                 f"compatibility: {tags.get('edgetpu_compat_verdict', 'unknown')}")
    if "dataset_fingerprint" in tags:
        lines.append(f"- dataset `{tags.get('dataset', '?')}`, fingerprint `{tags['dataset_fingerprint']}`")
    return "\n".join(lines)

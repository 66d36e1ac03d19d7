"""Has the default budget converged? Per real dataset, the pipeline's defaults (``num_steps=auto``, a val split,
early stopping on val, the time cap) beside the fixed 300-step baseline of earlier versions and a run with
twice the default's budget (a long measurement: not a test).

    python -m bench.training_budget [--datasets raccoon,playing_cards,fruit_nuts,license_plates]
                                    [--runs default,baseline,double] [--augmentations flip,photometric]
                                    [--out results.json]

Each run goes through the steps' own library code in this process: preprocess (the dataset's own train/test
split, ``val_fraction=auto``; the baseline: none, as before), ``plan_budget``, ``train`` from the pretrained
detector (``base_weights=auto``, SSDLite-MobileNetV2 300x300, batch 8), convert with the default post-processing
(per-class NMS, ``max_detections=auto``) and evaluate of the int8 TFLite model (the deployed one; Keras for
reference) on the test split. The runs:

* ``default``: every default, ``max_train_minutes=10`` included;
* ``baseline``: ``num_steps=300``, warmup 30, learning rate 0.001, every backbone stage training, no val split,
  no validation (the defaults before issue 17);
* ``double``: twice the steps the default run planned (after its time cap re-planned them), no time cap, the
  default's validation and early stopping: what "converged" is measured against.

Printed per dataset and run: the chosen budget, steps run and why training stopped, the wall time of training
and of the whole chain, the validation curve (val mAP by step), and test mAP / AP50 of the int8 and Keras
models. The test split is only read by the final evaluation. Writes JSON with ``--out``.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import argparse
import json
import os
from pathlib import Path
import tempfile
import time

import keras

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.data.split import resolve_val_fraction
from edgetpu_detector.evaluation.evaluate import evaluate_detector
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.export.deployment import Deployment, resolve_max_detections
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tfrecord.shards import record_files
from edgetpu_detector.tfrecord.stats import boxes_per_image
from edgetpu_detector.training.budget import plan_budget
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DATA_DIRS = {"raccoon": "raccoon", "playing_cards": "playing_cards", "fruit_nuts": "fruit_nuts/data",
             "license_plates": "license_plates_vott/dataset"}
MAX_TRAIN_MINUTES = 10.0  # the MLproject default
BASELINE_LEARNING_RATE = 0.001  # the default before issue 17


def _val_records(data_dir):
    try:
        paths = [str(p) for p in record_files(data_dir, "val")]
    except FileNotFoundError:
        return [], 0
    return paths, len(boxes_per_image(paths))


def run_chain(name, root, run, default_steps=None, augmentations=None):
    """One chain preprocess -> train -> convert -> evaluate; returns its report (dict).

    ``augmentations``: tuple of names for the default and double runs (None: the TrainConfig default)."""
    keras.backend.clear_session()
    started = time.perf_counter()
    val_fraction = 0.0 if run == "baseline" else resolve_val_fraction("auto", synthetic=False)
    data = preprocess(SHARED / DATA_DIRS[name], root / "data", progress=False, val_fraction=val_fraction)
    val_records, num_val = _val_records(root / "data")
    if run == "baseline":
        budget = plan_budget(data.num_train, 8, num_steps=300, warmup_steps=30, validation_every=0, num_val=num_val)
    else:
        budget = plan_budget(data.num_train, 8, num_steps=2 * default_steps if run == "double" else "auto",
                             num_val=num_val)
    cap = MAX_TRAIN_MINUTES if run == "default" else 0.0
    print(f"{name} {run}: " + " / ".join(budget.lines()), flush=True)
    overrides = {"learning_rate": BASELINE_LEARNING_RATE, "trainable_backbone_stages": "all"} if run == "baseline" else {}
    if augmentations is not None and run != "baseline":
        overrides["augmentations"] = augmentations
    config = TrainConfig(num_steps=budget.num_steps, warmup_steps=budget.warmup_steps, **overrides,
                         validation_every=budget.validation_every,
                         early_stopping_patience=budget.early_stopping_patience, max_train_minutes=cap,
                         image_every=0)
    detector = DetectorConfig(num_classes=data.num_classes)
    curve = []
    result = train(detector, [str(p) for p in data.record_paths["train"]], root / "model", config,
                   base_weights="auto", progress=False, validation_records=val_records or None,
                   names_to_ids=data.names_to_ids,
                   on_metrics=lambda step, m: curve.append((step, round(m["val/mAP"], 4))) if "val/mAP" in m else None)
    slots = resolve_max_detections("auto", data.record_paths["train"])
    convert_detector(root / "model", data.train_record, data.label_map_path, root / "export",
                     deployment=Deployment(NMSConfig(max_detections=slots), score_threshold=0.3))
    evaluation = evaluate_detector(root / "export", root / "model", data.test_record, data.label_map_path,
                                   root / "eval", forms=("int8_tflite", "keras"), progress=False)
    report = {"train_images": data.num_train, "val_images": num_val, "test_images": data.num_test,
              "val_source": data.val_source, "budget_steps": budget.num_steps, "budget_epochs": budget.epochs,
              "budget_rule": budget.rule, "planned_steps": result.planned_steps, "steps_run": result.steps_run,
              "stopped_by": result.stopped_by, "trainable_backbone_stages": result.fine_tuning.trainable_stages, "best_step": (result.best or {}).get("step"),
              "train_seconds": result.seconds, "pipeline_seconds": time.perf_counter() - started,
              "val_curve": curve,
              **{f"{form}_{k}": evaluation.metrics[form][k] for form in ("int8_tflite", "keras")
                 for k in ("mAP", "AP50")}}
    print(f"{name} {run}: " + json.dumps(report, default=float), flush=True)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATA_DIRS))
    parser.add_argument("--runs", default="default,baseline,double")
    parser.add_argument("--augmentations", help="comma-separated augmentations of the default and double runs "
                        "(default: TrainConfig's)")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    runs = args.runs.split(",")
    augmentations = None if args.augmentations is None else tuple(a for a in args.augmentations.split(",") if a)
    results = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count(), "augmentations": augmentations,
               "datasets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            reports = results["datasets"][name] = {}
            for run in ("default", "baseline", "double"):
                if run in runs and not (run == "double" and "default" not in reports):
                    reports[run] = run_chain(name, Path(tmp) / name / run, run,
                                             default_steps=reports.get("default", {}).get("planned_steps"),
                                             augmentations=augmentations)
                    if args.out:
                        Path(args.out).write_text(json.dumps(results, indent=2, default=float) + "\n")
    results["load_average_after"] = os.getloadavg()
    print("\ndataset        run       steps  stopped_by      train_s  chain_s  int8 mAP  int8 AP50  keras AP50")
    for name, reports in results["datasets"].items():
        for run, r in reports.items():
            print(f"{name:<14} {run:<9} {r['steps_run']:>5}  {r['stopped_by']:<14} {r['train_seconds']:>8.0f} "
                  f"{r['pipeline_seconds']:>8.0f}  {r['int8_tflite_mAP']:>8.3f}  {r['int8_tflite_AP50']:>9.3f}  "
                  f"{r['keras_AP50']:>10.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


if __name__ == "__main__":
    main()

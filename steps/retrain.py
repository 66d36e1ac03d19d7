"""MLflow entry point ``retrain``: train an SSD / SSDLite detector on the TFRecords of a preprocess run.

The budget (steps, warmup, validation, early stopping) follows the size of the training split
(``edgetpu_detector.training.budget``); validation uses the val split only: the test split stays unseen until
the evaluate step."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import re

import mlflow

from edgetpu_detector.data.label_map import LABEL_MAP_FILE, read_label_map
from edgetpu_detector.ssd.checkpoint import CHECKPOINT_DIR
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.tfrecord.shards import record_files
from edgetpu_detector.tfrecord.stats import boxes_per_image
from edgetpu_detector.tracking.artifacts import log_artifacts
from edgetpu_detector.tracking.store import DATASET_KIND_TAG, MODEL_ARTIFACTS, download_artifacts
from edgetpu_detector.training.budget import plan_budget
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.convergence import convergence_hint, still_rising
from edgetpu_detector.training.loop import TENSORBOARD_DIR, train
from steps._args import config_from, parse_args
from steps._run import fetch_inputs, output_folder, step_run

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def _base_weights(value, tmp):
    """``value``, or for the id of an earlier retrain run the local copy of its ``model/`` folder."""
    if RUN_ID.match(value.strip()):
        try:
            return str(download_artifacts(value.strip(), MODEL_ARTIFACTS, tmp / "base_weights")), "mlflow_run"
        except Exception as error:  # MlflowException: unknown run or no model/ artifacts
            raise ValueError(f"base_weights: MLflow run {value} has no {MODEL_ARTIFACTS}/ artifacts: {error}") \
                from error
    return value, None


def _split_records(data, split):
    """The split's TFRecord paths (str) and its number of images; ``([], 0)`` when the split was not written."""
    try:
        paths = [str(p) for p in record_files(data, split)]
    except FileNotFoundError:
        return [], 0
    return paths, len(boxes_per_image(paths))


def main(argv=None):
    args = parse_args("retrain", argv, __doc__)
    with step_run("retrain") as tmp:
        data, _ = fetch_inputs(tmp, args["data_run_id"])
        names_to_ids = read_label_map(data / LABEL_MAP_FILE)
        detector = config_from(DetectorConfig, args, num_classes=max(names_to_ids.values()))
        train_records, num_train = _split_records(data, "train")
        val_records, num_val = _split_records(data, "val")
        synthetic = mlflow.get_run(args["data_run_id"]).data.tags.get(DATASET_KIND_TAG) == "synthetic"
        try:
            budget = plan_budget(num_train, args["batch_size"], num_steps=args["num_steps"], epochs=args["epochs"],
                                 warmup_steps=args["warmup_steps"], validation_every=args["validation_every"],
                                 early_stopping_patience=args["early_stopping_patience"], num_val=num_val,
                                 synthetic=synthetic)
        except ValueError as error:
            raise SystemExit(f"retrain: {error}") from None
        config = config_from(TrainConfig, args, num_steps=budget.num_steps, warmup_steps=budget.warmup_steps,
                             validation_every=budget.validation_every,
                             early_stopping_patience=budget.early_stopping_patience)
        print("\n".join(budget.lines()), flush=True)
        mlflow.log_metrics(budget.metrics())
        base_weights, run_kind = _base_weights(args["base_weights"], tmp)
        mlflow.set_tag("base_model", detector.model)
        out = output_folder(args["output_dir"], tmp / MODEL_ARTIFACTS)
        curve = []

        def on_metrics(step, metrics):
            mlflow.log_metrics(metrics, step=step)
            if "val/mAP" in metrics:
                curve.append((step, metrics["val/mAP"]))

        result = train(detector, train_records, out, config, base_weights=base_weights, on_metrics=on_metrics,
                       validation_records=val_records if config.validation_every else None,
                       names_to_ids=names_to_ids)
        mlflow.set_tags(result.tags() | ({"base_weights_kind": run_kind} if run_kind else {})
                        | {"train/budget_rule": budget.rule, "train/validation": budget.validation_note})
        mlflow.log_metrics({"train/seconds": result.seconds, "train/num_anchors": len(detector.generate_anchors()),
                            "train/planned_steps": result.planned_steps, "train/steps": result.steps_run})
        if result.best:
            mlflow.log_metrics({f"val/best/{k[len('val/'):]}": v for k, v in result.best.items()
                                if k.startswith("val/")} | {"val/best/step": result.best["step"]})
        for name in (result.config_path, result.weights_path):
            log_artifacts(name, MODEL_ARTIFACTS)
        log_artifacts(out / CHECKPOINT_DIR, f"{MODEL_ARTIFACTS}/{CHECKPOINT_DIR}")
        log_artifacts(out / TENSORBOARD_DIR, TENSORBOARD_DIR)
        print(result.summary())
        rising = still_rising(curve)
        if rising is not None:
            mlflow.set_tag("train/still_rising", str(rising).lower())
        hint = convergence_hint(curve, result.stopped_by)
        if hint:
            print(hint, flush=True)


if __name__ == "__main__":
    main()

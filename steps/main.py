"""MLflow entry point ``main``: the driver that chains preprocess -> retrain -> evaluate -> convert.

Each step runs through ``mlflow.run(..., env_manager="local")`` as a child run of this (parent) run; each
step's run id is passed to the steps that read its artifacts.
"""
import argparse
from pathlib import Path

import common.env  # noqa: F401
import mlflow
from mlflow.tracking import MlflowClient

from common.tracking import EXPORT_ARTIFACTS, PROJECT_DIR, artifact_local_path, ensure_tracking_uri

# parent-run parameters forwarded to each step (MLproject parameter names)
STEP_PARAMETERS = {
    "preprocess": ("data_dir", "test_fraction", "label_map", "seed", "format", "num_shards"),
    "retrain": ("model", "alpha", "image_size", "batch_size", "num_steps", "learning_rate", "base_weights",
                "augmentations", "freeze_backbone_steps", "freeze_batch_norm", "validation_every",
                "early_stopping_patience", "strategy",
                "seed"),
    "evaluate": ("eval_forms", "num_calibration_images", "iou_threshold"),
    "convert": ("num_calibration_images", "score_threshold", "iou_threshold", "max_detections", "use_regular_nms"),
}
# metrics copied from the steps onto the parent run, so the runs table compares whole pipelines
SUMMARY_METRICS = ("train/loss", "eval/mAP", "eval/AP50", "eval/AP75", "eval/int8_tflite/mAP",
                   "eval/int8_tflite/AP50", "eval/int8_ap_drop", "convert/int8_size_bytes")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    add = parser.add_argument
    add("--data-dir", default="")
    add("--test-fraction", default="0.2")
    add("--label-map", default="")
    add("--format", default="auto")
    add("--num-shards", default="1")
    add("--model", default="ssdlite_mobilenet_v2")
    add("--alpha", default="1.0")
    add("--image-size", default="300")
    add("--batch-size", default="8")
    add("--num-steps", default="300")
    add("--learning-rate", default="0.001")
    add("--base-weights", default="auto")
    add("--augmentations", default="flip,crop,photometric")
    add("--freeze-backbone-steps", default="0")
    add("--freeze-batch-norm", default="auto")
    add("--validation-every", default="0")
    add("--early-stopping-patience", default="0")
    add("--strategy", default="default")
    add("--seed", default="42")
    add("--num-calibration-images", default="100")
    add("--score-threshold", default="0.3")
    add("--iou-threshold", default="0.6")
    add("--max-detections", default="10")
    add("--use-regular-nms", default="false")
    add("--eval-forms", default="all")
    return parser.parse_args(argv)


def run_step(entry_point, parameters, experiment_id):
    """Run one entry point of this project as a child of the active run; return its FINISHED run id.

    Raises:
      RuntimeError: the step's run did not finish.
    """
    print(f"\n=== {entry_point} ===", flush=True)
    submitted = mlflow.run(str(PROJECT_DIR), entry_point=entry_point, parameters=parameters,
                           env_manager="local", experiment_id=experiment_id, synchronous=True)
    status = MlflowClient().get_run(submitted.run_id).info.status
    if status != "FINISHED":
        raise RuntimeError(f"step {entry_point} (run {submitted.run_id}) ended {status}")
    return submitted.run_id


def main(argv=None):
    args = vars(parse_args(argv))
    if args["data_dir"]:
        args["data_dir"] = str(Path(args["data_dir"]).expanduser().resolve())
    ensure_tracking_uri()
    with mlflow.start_run() as parent:
        experiment_id = parent.info.experiment_id
        mlflow.set_tag("mlflow.runName", parent.info.run_name or "pipeline")
        params = {name: args[name] for names in STEP_PARAMETERS.values() for name in names}
        data_id = run_step("preprocess", {n: params[n] for n in STEP_PARAMETERS["preprocess"]}, experiment_id)
        model_id = run_step("retrain", {"data_run_id": data_id,
                                        **{n: params[n] for n in STEP_PARAMETERS["retrain"]}}, experiment_id)
        eval_id = run_step("evaluate", {"data_run_id": data_id, "model_run_id": model_id,
                                        **{n: params[n] for n in STEP_PARAMETERS["evaluate"]}}, experiment_id)
        convert_id = run_step("convert", {"data_run_id": data_id, "model_run_id": model_id,
                                          **{n: params[n] for n in STEP_PARAMETERS["convert"]}},
                              experiment_id)
        client = MlflowClient()
        summary = {}
        for run_id in (model_id, eval_id, convert_id):
            for key, value in client.get_run(run_id).data.metrics.items():
                if key in SUMMARY_METRICS:
                    summary[key] = value
        mlflow.log_metrics(summary)
        convert_tags = client.get_run(convert_id).data.tags
        mlflow.set_tags({"preprocess_run_id": data_id, "retrain_run_id": model_id, "evaluate_run_id": eval_id,
                         "convert_run_id": convert_id,
                         "edgetpu_compiler": convert_tags.get("edgetpu_compiler", "unknown")})
        int8_name = convert_tags.get("edgetpu_model") or convert_tags.get("int8_model", "model_int8.tflite")
        local = artifact_local_path(convert_id, f"{EXPORT_ARTIFACTS}/{int8_name}")
        where = str(local) if local is not None else f"runs:/{convert_id}/{EXPORT_ARTIFACTS}/{int8_name}"
        print("\n=== done ===")
        print(f"pipeline run {parent.info.run_id}: mAP@[.5:.95] {summary.get('eval/mAP', float('nan')):.3f}, "
              f"AP50 {summary.get('eval/AP50', float('nan')):.3f}")
        print(f"Edge TPU-ready model: {where}")
        if convert_tags.get("edgetpu_compiler") != "compiled":
            print("(int8 TFLite, not yet compiled: run `edgetpu_compiler` on it, or use the Docker image)")


if __name__ == "__main__":
    main()

"""MLflow entry point ``main``: the driver that chains preprocess -> retrain -> evaluate -> convert.

Each step runs through ``mlflow.run(..., env_manager="local")`` as a child run of this (parent) run, or is
reused from an earlier FINISHED run with the same parameters, code and inputs (``common.step_cache``); each
step's run id is passed to the steps that read its artifacts. A failed step fails this run too; running the
driver again reuses what finished and resumes training from its last checkpoint.
"""
import argparse
from pathlib import Path
import sys

import common.env  # noqa: F401
import mlflow
from mlflow.tracking import MlflowClient

from common.pipeline import StepFailed, StepRunner
from common.pipeline_summary import parent_metrics, parent_tags, summary_note
from common.redact import redact_uri
from common.registry import register_model_version
from common.step_cache import parse_force_rerun
from common.step_failure import ERROR_TAG
from common.tracking import EXPORT_ARTIFACTS, PROJECT_DIR, SERVING_MODEL_TAG, artifact_local_path, ensure_tracking_uri

STEPS = ("preprocess", "retrain", "evaluate", "convert")
# parent-run parameters forwarded to each step (MLproject parameter names)
STEP_PARAMETERS = {
    "preprocess": ("data_dir", "test_fraction", "label_map", "seed", "format", "num_shards"),
    "retrain": ("model", "alpha", "image_size", "batch_size", "num_steps", "learning_rate", "base_weights",
                "augmentations", "freeze_backbone_steps", "freeze_batch_norm", "validation_every",
                "early_stopping_patience", "strategy", "checkpoint_every", "seed"),
    "evaluate": ("eval_forms", "num_calibration_images", "iou_threshold"),
    "convert": ("num_calibration_images", "score_threshold", "iou_threshold", "max_detections", "use_regular_nms"),
}
DRIVER_PARAMETERS = ("force_rerun", "register_model_name")


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
    add("--checkpoint-every", default="100")
    add("--seed", default="42")
    add("--num-calibration-images", default="100")
    add("--score-threshold", default="0.3")
    add("--iou-threshold", default="0.6")
    add("--max-detections", default="10")
    add("--use-regular-nms", default="false")
    add("--eval-forms", default="all")
    add("--force-rerun", default="false",
        help="true | false | comma-separated steps to rerun even when a cached run exists")
    add("--register-model-name", default="",
        help="register the Edge TPU model (pyfunc) under this name in the Model Registry")
    return parser.parse_args(argv)


def _register(client, name, convert_id, tags):
    model_uri = client.get_run(convert_id).data.tags.get(SERVING_MODEL_TAG)
    if not model_uri:
        print(f"register: the convert run {convert_id} logged no servable model; nothing registered")
        return None
    version, created = register_model_version(client, name, model_uri, convert_id, tags)
    print(f"register: {name} version {version.version} "
          f"({'registered' if created else 'already registered for this convert run'}), "
          f"edgetpu_compiler={tags['edgetpu_compiler']}")
    return version


def _run_pipeline(args, runner):
    step = {n: args[n] for n in STEP_PARAMETERS["preprocess"]}
    results = {"preprocess": runner.run("preprocess", step)}
    data = {"data_run_id": results["preprocess"].run_id}
    results["retrain"] = runner.run("retrain", {n: args[n] for n in STEP_PARAMETERS["retrain"]}, data)
    both = {**data, "model_run_id": results["retrain"].run_id}
    results["evaluate"] = runner.run("evaluate", {n: args[n] for n in STEP_PARAMETERS["evaluate"]}, both)
    results["convert"] = runner.run("convert", {n: args[n] for n in STEP_PARAMETERS["convert"]}, both)
    return results


def main(argv=None):
    args = vars(parse_args(argv))
    if args["data_dir"]:
        args["data_dir"] = str(Path(args["data_dir"]).expanduser().resolve())
    try:
        force = parse_force_rerun(args["force_rerun"], STEPS)
    except ValueError as error:
        raise SystemExit(f"main: {error}") from None
    uri = ensure_tracking_uri()
    client = MlflowClient()
    with mlflow.start_run() as parent:
        run_id = parent.info.run_id
        print(f"tracking: {redact_uri(uri)}, experiment {parent.info.experiment_id}, pipeline run {run_id}")
        logged = client.get_run(run_id).data.params  # `mlflow run` logs them; a direct call does not
        mlflow.log_params({k: v for k, v in args.items() if k not in logged})
        mlflow.set_tags({"mlflow.runName": parent.info.run_name or "pipeline", "base_model": args["model"],
                         "base_weights": args["base_weights"]})
        runner = StepRunner(PROJECT_DIR, parent.info.experiment_id, force=force)
        try:
            results = _run_pipeline(args, runner)
        except StepFailed as failure:
            mlflow.set_tags({ERROR_TAG: f"step {failure.entry_point} failed: {failure.error}"[:5000],
                             "failed_step": failure.entry_point, f"{failure.entry_point}_run_id": failure.run_id})
            print(f"\n=== {failure.entry_point} FAILED: {failure.error} ===\n"
                  f"run {failure.run_id} holds the log (logs/{failure.entry_point}.log)"
                  + (f", also at {failure.log_path}" if failure.log_path else "")
                  + ".\nRun the same command again to resume: finished steps are reused and training "
                    "continues from its last checkpoint.", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            mlflow.end_run("KILLED")
            raise
        runs = {name: client.get_run(result.run_id) for name, result in results.items()}
        tags = parent_tags(runs, results)
        metrics = parent_metrics(runs)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags)
        if args["register_model_name"].strip():
            version = _register(client, args["register_model_name"].strip(), results["convert"].run_id,
                                {**{k: tags[k] for k in ("edgetpu_compiler", "edgetpu_compat_verdict",
                                                         "base_model", "dataset_fingerprint") if k in tags},
                                 **{k: f"{v:.4f}" for k, v in metrics.items() if k.startswith("eval/")}})
            if version is not None:
                mlflow.set_tags({"registered_model": f"{version.name}/{version.version}"})
        mlflow.set_tag("mlflow.note.content", summary_note(runs, results, metrics, tags))
        convert = runs["convert"]
        int8_name = convert.data.tags.get("edgetpu_model") or convert.data.tags.get("int8_model", "model_int8.tflite")
        local = artifact_local_path(convert.info.run_id, f"{EXPORT_ARTIFACTS}/{int8_name}")
        where = str(local) if local is not None else f"runs:/{convert.info.run_id}/{EXPORT_ARTIFACTS}/{int8_name}"
        reused = [name for name, result in results.items() if result.reused]
        print("\n=== done ===")
        print(f"steps reused from earlier runs: {', '.join(reused) if reused else 'none'}")
        print(f"pipeline run {run_id}: mAP@[.5:.95] {metrics.get('eval/mAP', float('nan')):.3f}, "
              f"AP50 {metrics.get('eval/AP50', float('nan')):.3f}")
        print(f"Edge TPU-ready model: {where}")
        if convert.data.tags.get(SERVING_MODEL_TAG):
            print(f"serve it: mlflow models serve -m {convert.data.tags[SERVING_MODEL_TAG]} --env-manager local")
        if convert.data.tags.get("edgetpu_compiler") != "compiled":
            print("(int8 TFLite, not yet compiled: run `edgetpu_compiler` on it, or use the Docker image)")


if __name__ == "__main__":
    main()

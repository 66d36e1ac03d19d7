"""MLflow entry point ``main``: the driver that chains preprocess -> retrain -> convert -> evaluate.

Each step runs through ``mlflow.run(..., env_manager="local")`` as a child run of this (parent) run, or is
reused from an earlier FINISHED run with the same parameters, code and inputs
(``edgetpu_detector.tracking.step_cache``); each step's run id is passed to the steps that read its
artifacts. A failed step fails this run too; SIGINT (Ctrl-C) or SIGTERM ends the step's run and this one
KILLED with the reason; either way running the driver again reuses what finished and resumes training from
its last checkpoint.
"""
import edgetpu_detector.core.env  # noqa: F401

from pathlib import Path
import sys

import mlflow
from mlflow.tracking import MlflowClient

from edgetpu_detector.core.interrupts import interruption_text, raise_on_signals
from edgetpu_detector.tracking.failures import ERROR_TAG
from edgetpu_detector.tracking.pipeline import STEPS, run_pipeline
from edgetpu_detector.tracking.redact import redact_uri
from edgetpu_detector.tracking.registry import register_model_version
from edgetpu_detector.tracking.runner import StepFailed, StepRunner
from edgetpu_detector.tracking.step_cache import parse_force_rerun
from edgetpu_detector.tracking.store import (
    EXPORT_ARTIFACTS,
    PROJECT_DIR,
    SERVING_MODEL_TAG,
    artifact_local_path,
    ensure_tracking_uri,
)
from edgetpu_detector.tracking.summary import parent_metrics, parent_tags, registry_tags, summary_note
from steps._args import parse_args


def _register(client, name, convert_id, tags):
    model_uri = client.get_run(convert_id).data.tags.get(SERVING_MODEL_TAG)
    if not model_uri:
        print(f"register: the convert run {convert_id} logged no servable model; nothing registered")
        return None
    version, created = register_model_version(client, name, model_uri, convert_id, tags)
    print(f"register: {name} version {version.version} "
          f"({'registered' if created else 'already registered for this convert run'}), "
          f"edgetpu_compiler={tags.get('edgetpu_compiler')}")
    return version


def _print_failure(failure):
    print(f"\n=== {failure.entry_point} FAILED: {failure.error} ===\n"
          f"run {failure.run_id} holds the log (logs/{failure.entry_point}.log)"
          + (f", also at {failure.log_path}" if failure.log_path else "")
          + ".\nRun the same command again to resume: finished steps are reused and training "
            "continues from its last checkpoint.", file=sys.stderr, flush=True)


def _print_done(run_id, results, runs, metrics):
    convert = runs["convert"]
    int8_name = convert.data.tags.get("edgetpu_model") or convert.data.tags.get("int8_model", "model_int8.tflite")
    local = artifact_local_path(convert.info.run_id, f"{EXPORT_ARTIFACTS}/{int8_name}")
    where = str(local) if local is not None else f"runs:/{convert.info.run_id}/{EXPORT_ARTIFACTS}/{int8_name}"
    reused = [name for name, result in results.items() if result.reused]
    print("\n=== done ===")
    print(f"steps reused from earlier runs: {', '.join(reused) if reused else 'none'}")
    print(f"pipeline run {run_id}: deployed int8 model on the test split: mAP@[.5:.95] "
          f"{metrics.get('eval/mAP', float('nan')):.3f}, "
          f"AP50 {metrics.get('eval/AP50', float('nan')):.3f} (Keras model: "
          f"{metrics.get('eval/keras/mAP', float('nan')):.3f}, {metrics.get('eval/keras/AP50', float('nan')):.3f})")
    if "val/best_mAP" in metrics:
        print(f"validation split (chose the kept weights): best val mAP@[.5:.95] {metrics['val/best_mAP']:.3f}; "
              "the figures above are on the test split, unseen until evaluate")
    print(f"Edge TPU-ready model: {where}")
    if convert.data.tags.get(SERVING_MODEL_TAG):
        print(f"serve it: mlflow models serve -m {convert.data.tags[SERVING_MODEL_TAG]} --env-manager local")
    if convert.data.tags.get("edgetpu_compiler") != "compiled":
        print("(int8 TFLite, not yet compiled: run `edgetpu_compiler` on it, or use the Docker image)")


def main(argv=None):
    raise_on_signals()
    args = parse_args("main", argv, __doc__)
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
            results = run_pipeline(runner, args)
        except StepFailed as failure:
            mlflow.set_tags({ERROR_TAG: f"step {failure.entry_point} failed: {failure.error}"[:5000],
                             "failed_step": failure.entry_point, f"{failure.entry_point}_run_id": failure.run_id})
            _print_failure(failure)
            raise SystemExit(1) from None
        except KeyboardInterrupt as stop:  # SIGINT or SIGTERM, during a step (StepInterrupted) or between
            where, step_run_id = getattr(stop, "entry_point", None), getattr(stop, "run_id", None)
            reason = interruption_text(stop) if where is None else stop.error
            tags = {ERROR_TAG: (f"step {where} interrupted: {reason}" if where else f"Interrupted: {reason}")[:5000]}
            if where:
                tags |= {"failed_step": where, **({f"{where}_run_id": step_run_id} if step_run_id else {})}
            mlflow.set_tags(tags)
            mlflow.end_run("KILLED")
            # (`mlflow run`, when it launched this driver, then marks the pipeline run FAILED over KILLED.)
            print(f"\n=== {where or 'pipeline'} INTERRUPTED: {reason} ===\n"
                  f"pipeline run {run_id}" + (f" and the {where} run {step_run_id}" if step_run_id else "")
                  + " stopped.\nRun the same command again to resume: finished steps are reused and training "
                  "continues from its last checkpoint.", file=sys.stderr, flush=True)
            raise SystemExit(130 if "SIGINT" in reason else 143) from None
        runs = {name: client.get_run(result.run_id) for name, result in results.items()}
        tags = parent_tags(runs, results)
        metrics = parent_metrics(runs)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags)
        if args["register_model_name"].strip():
            version = _register(client, args["register_model_name"].strip(), results["convert"].run_id,
                                registry_tags(tags, metrics))
            if version is not None:
                mlflow.set_tags({"registered_model": f"{version.name}/{version.version}"})
        mlflow.set_tag("mlflow.note.content", summary_note(runs, results, metrics, tags))
        _print_done(run_id, results, runs, metrics)


if __name__ == "__main__":
    main()

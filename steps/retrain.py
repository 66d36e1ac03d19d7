"""MLflow entry point ``retrain``: train an SSD / SSDLite detector on the TFRecords of a preprocess run."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import re

import mlflow

from edgetpu_detector.data.label_map import LABEL_MAP_FILE, read_label_map
from edgetpu_detector.ssd.checkpoint import CHECKPOINT_DIR
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.tfrecord.shards import record_files
from edgetpu_detector.tracking.artifacts import log_artifacts
from edgetpu_detector.tracking.store import MODEL_ARTIFACTS, download_artifacts
from edgetpu_detector.training.config import TrainConfig
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


def main(argv=None):
    args = parse_args("retrain", argv, __doc__)
    with step_run("retrain") as tmp:
        data, _ = fetch_inputs(tmp, args["data_run_id"])
        names_to_ids = read_label_map(data / LABEL_MAP_FILE)
        detector = config_from(DetectorConfig, args, num_classes=max(names_to_ids.values()))
        config = config_from(TrainConfig, args)
        base_weights, run_kind = _base_weights(args["base_weights"], tmp)
        mlflow.set_tag("base_model", detector.model)
        out = output_folder(args["output_dir"], tmp / MODEL_ARTIFACTS)
        result = train(detector, [str(p) for p in record_files(data, "train")], out, config,
                       base_weights=base_weights, on_metrics=lambda step, m: mlflow.log_metrics(m, step=step),
                       validation_records=[str(p) for p in record_files(data, "test")]
                       if config.validation_every else None, names_to_ids=names_to_ids)
        mlflow.set_tags(result.tags() | ({"base_weights_kind": run_kind} if run_kind else {}))
        mlflow.log_metrics({"train/seconds": result.seconds, "train/num_anchors": len(detector.generate_anchors())})
        for name in (result.config_path, result.weights_path):
            log_artifacts(name, MODEL_ARTIFACTS)
        log_artifacts(out / CHECKPOINT_DIR, f"{MODEL_ARTIFACTS}/{CHECKPOINT_DIR}")
        log_artifacts(out / TENSORBOARD_DIR, TENSORBOARD_DIR)
        print(result.summary())


if __name__ == "__main__":
    main()

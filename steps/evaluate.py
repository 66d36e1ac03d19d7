"""MLflow entry point ``evaluate``: COCO metrics of a retrained detector on the test split, for every exported
form (Keras, SavedModel, float and int8 TFLite), the cost of int8 quantization, and pictures."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import mlflow

from edgetpu_detector.data.label_map import LABEL_MAP_FILE
from edgetpu_detector.evaluation.evaluate import evaluate_detector
from edgetpu_detector.evaluation.forms import parse_forms
from edgetpu_detector.evaluation.tensorboard import write_image_summaries
from edgetpu_detector.tfrecord.shards import record_file
from edgetpu_detector.tracking.store import EVAL_ARTIFACTS, metric_key
from steps._args import parse_args
from steps._run import fetch_inputs, step_run


def main(argv=None):
    args = parse_args("evaluate", argv, __doc__)
    forms = parse_forms(args["eval_forms"])
    with step_run("evaluate") as tmp:
        data, model_dir = fetch_inputs(tmp, args["data_run_id"], args["model_run_id"], context="evaluation")
        result = evaluate_detector(model_dir, record_file(data, "test"), data / LABEL_MAP_FILE, tmp / EVAL_ARTIFACTS,
                                   forms=forms, train_record=record_file(data, "train"),
                                   num_calibration_images=args["num_calibration_images"],
                                   iou_threshold=args["iou_threshold"])
        mlflow.log_metrics({metric_key(name): value for name, value in result.mlflow_metrics().items()})
        mlflow.set_tag("eval_forms", ",".join(result.metrics))
        for path in result.files:
            mlflow.log_artifact(str(path), artifact_path=EVAL_ARTIFACTS)
        pictures = [p for p in result.files if p.suffix == ".png"]
        mlflow.log_artifacts(str(write_image_summaries(pictures, tmp / "tensorboard")), artifact_path="tensorboard")
        print("\n".join(result.summary()))


if __name__ == "__main__":
    main()

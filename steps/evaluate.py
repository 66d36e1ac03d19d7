"""MLflow entry point ``evaluate``: COCO metrics on the test split of the models the convert step exported --
the deployed int8 model first (the headline), then float TFLite, SavedModel and the Keras model as trained --
the gaps between them, and pictures."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import mlflow

from edgetpu_detector.data.label_map import LABEL_MAP_FILE
from edgetpu_detector.evaluation.evaluate import evaluate_detector
from edgetpu_detector.evaluation.forms import parse_forms
from edgetpu_detector.evaluation.tensorboard import write_image_summaries
from edgetpu_detector.tfrecord.shards import record_file
from edgetpu_detector.tracking.artifacts import log_artifacts
from edgetpu_detector.tracking.store import EVAL_ARTIFACTS, metric_key
from steps._args import parse_args
from steps._run import fetch_exports, fetch_inputs, step_run


def main(argv=None):
    args = parse_args("evaluate", argv, __doc__)
    forms = parse_forms(args["eval_forms"])
    with step_run("evaluate") as tmp:
        data, model_dir = fetch_inputs(tmp, args["data_run_id"], args["model_run_id"], context="evaluation")
        exports = fetch_exports(tmp, args["convert_run_id"])
        result = evaluate_detector(exports, model_dir, record_file(data, "test"), data / LABEL_MAP_FILE,
                                   tmp / EVAL_ARTIFACTS, forms=forms)
        mlflow.log_metrics({metric_key(name): value for name, value in result.mlflow_metrics().items()})
        mlflow.set_tags({"eval_forms": ",".join(result.metrics), "eval_headline_form": result.headline_form})
        for path in result.files:
            log_artifacts(path, EVAL_ARTIFACTS)
        pictures = [p for p in result.files if p.suffix == ".png"]
        log_artifacts(write_image_summaries(pictures, tmp / "tensorboard"), "tensorboard")
        print("\n".join(result.summary()))


if __name__ == "__main__":
    main()

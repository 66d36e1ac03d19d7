"""MLflow entry point ``evaluate``: COCO metrics of a retrained detector on the test split, and a picture."""
import argparse

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.evaluation.evaluate import evaluate_detector
from common.tracking import EVAL_ARTIFACTS, metric_key
from steps._cli import fetch_inputs, step_run


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-run-id", required=True, help="run id of the preprocess step")
    parser.add_argument("--model-run-id", required=True, help="run id of the retrain step")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run() as tmp:
        data, model_dir = fetch_inputs(tmp, args.data_run_id, args.model_run_id)
        result = evaluate_detector(model_dir, data / "test.record", data / "label_map.pbtxt",
                                   tmp / EVAL_ARTIFACTS)
        mlflow.log_metrics({metric_key(f"eval/{name}"): value for name, value in result.metrics.items()})
        mlflow.log_metric("eval/num_images", result.num_images)
        mlflow.log_artifacts(str(result.metrics_path.parent), artifact_path=EVAL_ARTIFACTS)
        print(f"evaluate: {result.num_images} test images, mAP@[.5:.95] {result.metrics['mAP']:.3f}, "
              f"AP50 {result.metrics['AP50']:.3f}, AP75 {result.metrics['AP75']:.3f}")


if __name__ == "__main__":
    main()

"""MLflow entry point ``evaluate``: COCO metrics of a retrained detector on the test split, for every exported
form (Keras, SavedModel, float and int8 TFLite), the cost of int8 quantization, and pictures."""
import argparse

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.record_files import record_file
from common.evaluation.evaluate import evaluate_detector
from common.evaluation.model_forms import parse_forms
from common.evaluation.tensorboard import write_image_summaries
from common.tracking import EVAL_ARTIFACTS, metric_key
from steps._cli import fetch_inputs, step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-run-id", required=True, help="run id of the preprocess step")
    parser.add_argument("--model-run-id", required=True, help="run id of the retrain step")
    parser.add_argument("--forms", type=parse_forms, default="all",
                        help="comma-separated keras, saved_model, float_tflite, int8_tflite, or 'all'")
    parser.add_argument("--num-calibration-images", type=whole_number, default=100,
                        help="representative images for the int8 form (as in the convert step)")
    parser.add_argument("--iou-threshold", type=float, default=0.6, help="NMS IoU threshold")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run("evaluate") as tmp:
        data, model_dir = fetch_inputs(tmp, args.data_run_id, args.model_run_id, context="evaluation")
        result = evaluate_detector(model_dir, record_file(data, "test"), data / "label_map.pbtxt",
                                   tmp / EVAL_ARTIFACTS, forms=args.forms, train_record=record_file(data, "train"),
                                   num_calibration_images=args.num_calibration_images,
                                   iou_threshold=args.iou_threshold)
        metrics = {f"eval/{name}": value for name, value in result.primary.items()}
        for form, values in result.metrics.items():
            metrics.update({f"eval/{form}/{name}": value for name, value in values.items()})
        metrics.update({f"eval/{name}": value for name, value in result.derived.items()})
        metrics["eval/num_images"] = result.num_images
        mlflow.log_metrics({metric_key(name): value for name, value in metrics.items()})
        mlflow.set_tag("eval_forms", ",".join(result.metrics))
        for path in result.files:
            mlflow.log_artifact(str(path), artifact_path=EVAL_ARTIFACTS)
        pictures = [p for p in result.files if p.suffix == ".png"]
        mlflow.log_artifacts(str(write_image_summaries(pictures, tmp / "tensorboard")), artifact_path="tensorboard")
        for form, values in result.metrics.items():
            print(f"evaluate: {form:>12}: mAP@[.5:.95] {values['mAP']:.3f}, AP50 {values['AP50']:.3f}, "
                  f"AP75 {values['AP75']:.3f}, {values['ms_per_image']:.1f} ms/image")
        if result.derived:
            print(f"evaluate: int8 quantization cost: {result.derived['int8_ap_drop']:+.2f} mAP points, "
                  f"{result.derived['int8_ap50_drop']:+.2f} AP50 points")


if __name__ == "__main__":
    main()

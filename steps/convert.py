"""MLflow entry point ``convert``: SavedModel, frozen graph, float and int8 TFLite, Edge TPU compilation."""
import argparse

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.convert import COMPILED, convert_detector
from common.postprocess import NMSConfig
from common.tracking import EXPORT_ARTIFACTS
from steps._cli import fetch_inputs, step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-run-id", required=True, help="run id of the preprocess step")
    parser.add_argument("--model-run-id", required=True, help="run id of the retrain step")
    parser.add_argument("--num-calibration-images", type=whole_number, default=100,
                        help="representative images for post-training quantization")
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument("--iou-threshold", type=float, default=0.6)
    parser.add_argument("--max-detections", type=whole_number, default=10)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    nms = NMSConfig(score_threshold=args.score_threshold, iou_threshold=args.iou_threshold,
                    max_detections=args.max_detections, max_detections_per_class=args.max_detections)
    with step_run() as tmp:
        data, model_dir = fetch_inputs(tmp, args.data_run_id, args.model_run_id)
        result = convert_detector(model_dir, data / "train.record", data / "label_map.pbtxt",
                                  tmp / EXPORT_ARTIFACTS, args.num_calibration_images, nms)
        print(f"convert: {result.edgetpu_message}" if result.edgetpu_status == COMPILED else result.edgetpu_message)
        mlflow.log_metrics({f"convert/{name}_seconds": value for name, value in result.seconds.items()})
        mlflow.log_metrics({"convert/int8_size_bytes": result.int8_tflite_path.stat().st_size,
                            "convert/float_size_bytes": result.float_tflite_path.stat().st_size,
                            "convert/int8_num_ops": len(result.int8_ops)})
        mlflow.log_metrics({f"convert/edgetpu_{k}": v for k, v in result.edgetpu_stats.items()})
        tags = {"edgetpu_compiler": result.edgetpu_status, "edgetpu_message": result.edgetpu_message,
                "int8_model": result.int8_tflite_path.name}
        if result.edgetpu_model_path is not None:
            tags["edgetpu_model"] = result.edgetpu_model_path.name
        mlflow.set_tags(tags)
        mlflow.log_artifacts(str(result.output_dir), artifact_path=EXPORT_ARTIFACTS)
        print(f"convert: wrote {', '.join(sorted(p.name for p in result.output_dir.iterdir()))}")


if __name__ == "__main__":
    main()

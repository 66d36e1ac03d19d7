"""MLflow entry point ``convert``: SavedModel, frozen graph, float and int8 TFLite, Edge TPU compatibility
report and compilation."""
import argparse

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.record_files import record_file
from common.convert import COMPILED, CompilerOptions, convert_detector
from common.postprocess import NMSConfig
from common.serving.log_servable import EDGETPU_MODEL_NAME, SAVED_MODEL_NAME, log_servable_models
from common.tracking import EXPORT_ARTIFACTS, SAVED_MODEL_TAG, SERVING_MODEL_TAG
from steps._cli import fetch_inputs, step_run, whole_number


def boolean(text):
    """Parse ``true/false/1/0/yes/no`` (any case) as bool; reject anything else with argparse's error."""
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean (true/false): {text!r}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-run-id", required=True, help="run id of the preprocess step")
    parser.add_argument("--model-run-id", required=True, help="run id of the retrain step")
    parser.add_argument("--num-calibration-images", type=whole_number, default=100,
                        help="representative images for post-training quantization")
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument("--iou-threshold", type=float, default=0.6)
    parser.add_argument("--max-detections", type=whole_number, default=10)
    parser.add_argument("--use-regular-nms", type=boolean, default=False,
                        help="true: per-class NMS in the TFLite op (as the SavedModel); false: class-agnostic")
    parser.add_argument("--edgetpu-timeout", type=whole_number, default=600, help="seconds for edgetpu_compiler")
    parser.add_argument("--edgetpu-search-delegate", type=boolean, default=False,
                        help="edgetpu_compiler --search_delegate")
    parser.add_argument("--edgetpu-num-segments", type=whole_number, default=1,
                        help="edgetpu_compiler --num_segments (pipelining over several Edge TPUs)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    nms = NMSConfig(score_threshold=args.score_threshold, iou_threshold=args.iou_threshold,
                    max_detections=args.max_detections, max_detections_per_class=args.max_detections)
    with step_run("convert") as tmp:
        data, model_dir = fetch_inputs(tmp, args.data_run_id, args.model_run_id, context="calibration")
        options = CompilerOptions(timeout_s=args.edgetpu_timeout, search_delegate=args.edgetpu_search_delegate,
                                  num_segments=args.edgetpu_num_segments)
        result = convert_detector(model_dir, record_file(data, "train"), data / "label_map.pbtxt",
                                  tmp / EXPORT_ARTIFACTS, args.num_calibration_images, nms,
                                  use_regular_nms=args.use_regular_nms, compiler_options=options)
        report = result.compatibility
        print(f"convert: Edge TPU compatibility (no compiler): {report.verdict}; {report.ops_mapped} of "
              f"{report.ops_total} ops would map; parameters {report.parameter_bytes / 2**20:.2f} MiB")
        print(f"convert: {result.edgetpu_message}" if result.edgetpu_status == COMPILED else result.edgetpu_message)
        mlflow.log_metrics({"edgetpu_compat/ops_mapped": report.ops_mapped,
                            "edgetpu_compat/ops_total": report.ops_total,
                            "edgetpu_compat/ops_on_cpu": report.ops_on_cpu,
                            "edgetpu_compat/parameter_bytes": report.parameter_bytes})
        mlflow.set_tags({"edgetpu_compat_verdict": report.verdict,
                         "edgetpu_compat_cut": "; ".join(f"#{c['index']} {c['op']}: {c['reasons'][0]}"
                                                         for c in report.cut)[:5000] or "none",
                         "edgetpu_compat_fits_on_chip": str(report.parameters_fit_on_chip).lower()})
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
        served = log_servable_models(result, model_dir, record_file(data, "test"), nms)
        mlflow.set_tags({SERVING_MODEL_TAG: served.edgetpu.model_uri, SAVED_MODEL_TAG: served.saved_model.model_uri})
        print(f"convert: logged MLflow models {EDGETPU_MODEL_NAME} ({served.edgetpu.model_uri}, int8 TFLite "
              f"pyfunc, servable with `mlflow models serve`) and {SAVED_MODEL_NAME} ({served.saved_model.model_uri})")


if __name__ == "__main__":
    main()

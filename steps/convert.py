"""MLflow entry point ``convert``: SavedModel, frozen graph, float and int8 TFLite, Edge TPU compatibility
report and compilation, and the MLflow models to serve."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import mlflow

from edgetpu_detector.core.disk import disk_full_guard, folder_size
from edgetpu_detector.data.label_map import LABEL_MAP_FILE
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.export.deployment import Deployment, resolve_max_detections
from edgetpu_detector.mlflow_models.log_servable import EDGETPU_MODEL_NAME, SAVED_MODEL_NAME, log_servable_models
from edgetpu_detector.ssd.checkpoint import WEIGHTS_FILE
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.edgetpu_compiler import CompilerOptions
from edgetpu_detector.tfrecord.shards import record_file, record_files
from edgetpu_detector.tracking.artifacts import log_artifacts
from edgetpu_detector.tracking.store import EXPORT_ARTIFACTS, SAVED_MODEL_TAG, SERVING_MODEL_TAG
from steps._args import parse_args
from steps._run import fetch_inputs, step_run


def main(argv=None):
    args = parse_args("convert", argv, __doc__)
    options = CompilerOptions(timeout_s=args["edgetpu_timeout"], search_delegate=args["edgetpu_search_delegate"],
                              num_segments=args["edgetpu_num_segments"],
                              min_runtime_version=args["edgetpu_min_runtime_version"])
    with step_run("convert") as tmp:
        data, model_dir = fetch_inputs(tmp, args["data_run_id"], args["model_run_id"], context="calibration")
        slots = resolve_max_detections(args["max_detections"], record_files(data, "train"))
        deployment = Deployment(NMSConfig(iou_threshold=args["iou_threshold"], max_detections=slots,
                                          use_regular_nms=args["use_regular_nms"],
                                          max_classes_per_detection=args["max_classes_per_detection"]),
                                score_threshold=args["score_threshold"])
        # SavedModel, frozen graph and float TFLite each hold the float weights once, the int8 model a quarter.
        with disk_full_guard(tmp / EXPORT_ARTIFACTS, lambda: 4 * folder_size(model_dir / WEIGHTS_FILE)):
            result = convert_detector(model_dir, record_file(data, "train"), data / LABEL_MAP_FILE,
                                      tmp / EXPORT_ARTIFACTS, args["num_calibration_images"], deployment,
                                      compiler_options=options)
        print("\n".join(result.summary()))
        mlflow.log_metrics(result.metrics())
        mlflow.set_tags(result.tags())
        log_artifacts(result.output_dir, EXPORT_ARTIFACTS)
        print(f"convert: wrote {', '.join(sorted(p.name for p in result.output_dir.iterdir()))}")
        with disk_full_guard(tmp, lambda: folder_size(result.output_dir)):
            served = log_servable_models(result, model_dir, record_file(data, "test"))
        mlflow.set_tags({SERVING_MODEL_TAG: served.edgetpu.model_uri, SAVED_MODEL_TAG: served.saved_model.model_uri})
        print(f"convert: logged MLflow models {EDGETPU_MODEL_NAME} ({served.edgetpu.model_uri}, int8 TFLite "
              f"pyfunc, servable with `mlflow models serve`) and {SAVED_MODEL_NAME} ({served.saved_model.model_uri})")


if __name__ == "__main__":
    main()

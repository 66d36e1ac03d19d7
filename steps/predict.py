"""MLflow entry point and CLI ``predict``: run an exported detector (SavedModel, TFLite on the CPU, or a
compiled model on the Edge TPU) on a folder of images or a video; write annotated pictures, the detections
(CSV or JSON) and the latency per image; with ``--prelabel-format`` also pre-labels for LabelImg and the images
ranked for labelling.

    python -m steps.predict --model-uri runs:/<convert run id>/export/model_int8.tflite --input photos/
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from pathlib import Path

import mlflow

from edgetpu_detector.data.label_map import LABELS_TXT
from edgetpu_detector.inference.predict import predict
from steps._args import parse_args
from steps._run import output_folder, step_run


def _resolve(uri, tmp):
    """A local path for ``uri``; MLflow artifact URIs are downloaded, with a ``labels.txt`` beside them."""
    if ":/" not in uri or Path(uri).exists():
        return Path(uri).expanduser(), None
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp / "model")))
    try:
        labels = mlflow.artifacts.download_artifacts(artifact_uri=f"{uri.rsplit('/', 1)[0]}/{LABELS_TXT}",
                                                     dst_path=str(tmp / "labels"))
    except Exception:  # no labels.txt beside it: class ids are shown instead of names
        labels = None
    return local, labels


def main(argv=None):
    args = parse_args("predict", argv, __doc__)
    with step_run("predict") as tmp:
        model, labels = _resolve(args["model_uri"], tmp)
        output_dir = output_folder(args["output_dir"], tmp / "predictions")
        result = predict(model, Path(args["input"]).expanduser(), output_dir, labels_path=args["labels"] or labels,
                         score_threshold=args["score_threshold"], output_format=args["output_format"], device=args["device"],
                         num_threads=args["num_threads"], every=args["every"],
                         prelabel_format=args["prelabel_format"])
        if result.notice:
            print(result.notice)
        mlflow.set_tags({"model": args["model_uri"], "input": args["input"], "runtime": result.kind})
        mlflow.log_metrics(result.metrics())
        mlflow.log_artifacts(str(result.output_dir), artifact_path="predictions")
        print(result.summary() + (f" to {output_dir}" if args["output_dir"] else ""))


if __name__ == "__main__":
    main()

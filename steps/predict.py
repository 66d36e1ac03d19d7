"""MLflow entry point and CLI ``predict``: run an exported detector (SavedModel, TFLite on the CPU, or a
compiled model on the Edge TPU) on a folder of images or a video; write annotated pictures, the detections
(CSV or JSON) and the latency per image.

    python -m steps.predict --model runs:/<convert run id>/export/model_int8.tflite --input photos/
"""
import argparse
from pathlib import Path

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.predict import DEVICES, FORMATS, predict
from steps._cli import step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True,
                        help="SavedModel folder, .tflite, *_edgetpu.tflite, or an MLflow artifact URI (runs:/...)")
    parser.add_argument("--input", required=True, help="image, folder of images, or video file")
    parser.add_argument("--output-dir", default="", help="also keep the outputs in this folder")
    parser.add_argument("--labels", default="", help="labels.txt (default: the one beside the model)")
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--num-threads", type=whole_number, default=0, help="TFLite CPU threads (0: default)")
    parser.add_argument("--every", type=whole_number, default=1, help="keep one video frame in N")
    return parser.parse_args(argv)


def _resolve(uri, tmp):
    """A local path for ``uri``; MLflow artifact URIs are downloaded, with a ``labels.txt`` beside them."""
    if ":/" not in uri or Path(uri).exists():
        return Path(uri).expanduser(), None
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp / "model")))
    try:
        labels = mlflow.artifacts.download_artifacts(artifact_uri=uri.rsplit("/", 1)[0] + "/labels.txt",
                                                     dst_path=str(tmp / "labels"))
    except Exception:  # no labels.txt beside it: class ids are shown instead of names
        labels = None
    return local, labels


def main(argv=None):
    args = parse_args(argv)
    with step_run("predict") as tmp:
        model, labels = _resolve(args.model, tmp)
        output_dir = Path(args.output_dir).expanduser() if args.output_dir else tmp / "predictions"
        result = predict(model, Path(args.input).expanduser(), output_dir, labels_path=args.labels or labels,
                         score_threshold=args.score_threshold, fmt=args.format, device=args.device,
                         num_threads=args.num_threads or None, every=args.every)
        if result.notice:
            print(result.notice)
        mlflow.set_tags({"model": args.model, "input": args.input, "runtime": result.kind})
        mlflow.log_metrics({"predict/frames": result.num_frames, "predict/detections": result.num_detections,
                            **{f"predict/latency_ms_{k}": v for k, v in result.latency_ms.items()}})
        mlflow.log_artifacts(str(result.output_dir), artifact_path="predictions")
        print(f"predict: {result.num_frames} frames, {result.num_detections} detections, "
              f"{result.latency_ms['median']:.1f} ms per image (median, {result.kind}); "
              f"wrote {result.detections_path.name}, {result.frames_path.name}"
              + (f" and {len(result.pictures)} pictures" if result.pictures else "")
              + (f" to {output_dir}" if args.output_dir else ""))


if __name__ == "__main__":
    main()

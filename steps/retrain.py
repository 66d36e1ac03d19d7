"""MLflow entry point ``retrain``: train an SSD / SSDLite detector on the TFRecords of a preprocess run."""
import argparse

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.label_map import read_label_map
from common.models import MODEL_NAMES, DetectorConfig
from common.tracking import MODEL_ARTIFACTS
from common.train import CHECKPOINT_DIR, TENSORBOARD_DIR, TrainConfig, train
from steps._cli import fetch_inputs, step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-run-id", required=True, help="run id of the preprocess step")
    parser.add_argument("--model", default="ssdlite_mobilenet_v2", choices=MODEL_NAMES)
    parser.add_argument("--alpha", type=float, default=1.0, help="MobileNet width multiplier")
    parser.add_argument("--image-size", type=whole_number, default=300)
    parser.add_argument("--batch-size", type=whole_number, default=8)
    parser.add_argument("--num-steps", type=whole_number, default=300)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=whole_number, default=30)
    parser.add_argument("--base-weights", default="none",
                        help="none | imagenet | path to a Keras .h5 backbone or .weights.h5 detector file")
    parser.add_argument("--log-every", type=whole_number, default=10)
    parser.add_argument("--checkpoint-every", type=whole_number, default=100)
    parser.add_argument("--seed", type=whole_number, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run() as tmp:
        data, _ = fetch_inputs(tmp, args.data_run_id)
        names_to_ids = read_label_map(data / "label_map.pbtxt")
        detector = DetectorConfig(model=args.model, image_size=args.image_size,
                                  num_classes=max(names_to_ids.values()), alpha=args.alpha)
        config = TrainConfig(num_steps=args.num_steps, batch_size=args.batch_size,
                             learning_rate=args.learning_rate, warmup_steps=args.warmup_steps,
                             log_every=args.log_every, checkpoint_every=args.checkpoint_every, seed=args.seed)
        mlflow.set_tag("base_model", args.model)
        out = tmp / MODEL_ARTIFACTS
        result = train(detector, str(data / "train.record"), out, config, base_weights=args.base_weights,
                       on_metrics=lambda step, metrics: mlflow.log_metrics(metrics, step=step))
        mlflow.set_tag("base_weights_kind", result.base_weights_kind)
        mlflow.log_metrics({"train/seconds": result.seconds, "train/num_anchors": len(detector.generate_anchors())})
        for name in (result.config_path, result.weights_path):
            mlflow.log_artifact(str(name), artifact_path=MODEL_ARTIFACTS)
        mlflow.log_artifacts(str(out / CHECKPOINT_DIR), artifact_path=f"{MODEL_ARTIFACTS}/{CHECKPOINT_DIR}")
        mlflow.log_artifacts(str(out / TENSORBOARD_DIR), artifact_path=TENSORBOARD_DIR)
        print(f"retrain: {result.steps_run} steps in {result.seconds:.0f} s, final loss "
              f"{result.final_metrics.get('train/loss', float('nan')):.3f}")


if __name__ == "__main__":
    main()

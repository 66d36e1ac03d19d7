"""MLflow entry point ``retrain``: train an SSD / SSDLite detector on the TFRecords of a preprocess run."""
import argparse
from pathlib import Path

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.label_map import read_label_map
from common.models import MODEL_NAMES, DetectorConfig
from common.tracking import MODEL_ARTIFACTS
from common.record_files import record_files
from common.strategy import STRATEGIES
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
    parser.add_argument("--base-weights", default="auto",
                        help="auto | none | imagenet | zoo:<name> | MLflow run id | path to a frozen graph, "
                             "zoo archive or folder, TF checkpoint, Keras .h5 / .weights.h5 (see common.weights)")
    parser.add_argument("--augmentations", default="flip,crop,photometric",
                        help="comma-separated subset of flip, crop, photometric; 'none' for no augmentation")
    parser.add_argument("--freeze-backbone-steps", type=whole_number, default=0)
    parser.add_argument("--freeze-batch-norm", default="auto", choices=("auto", "true", "false"))
    parser.add_argument("--validation-every", type=whole_number, default=0,
                        help="steps between validation mAP on the test split (0: off)")
    parser.add_argument("--early-stopping-patience", type=whole_number, default=0)
    parser.add_argument("--strategy", default="default", choices=STRATEGIES)
    parser.add_argument("--output-dir", default="",
                        help="persistent training folder: re-running with the same folder resumes from its "
                             "last checkpoint (default: a scratch folder)")
    parser.add_argument("--image-every", type=whole_number, default=100,
                        help="steps between TensorBoard detection images (0: off)")
    parser.add_argument("--log-every", type=whole_number, default=10)
    parser.add_argument("--checkpoint-every", type=whole_number, default=100)
    parser.add_argument("--seed", type=whole_number, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run("retrain") as tmp:
        data, _ = fetch_inputs(tmp, args.data_run_id)
        names_to_ids = read_label_map(data / "label_map.pbtxt")
        detector = DetectorConfig(model=args.model, image_size=args.image_size,
                                  num_classes=max(names_to_ids.values()), alpha=args.alpha)
        augmentations = {a.strip() for a in args.augmentations.split(",") if a.strip()} or {"none"}
        unknown = augmentations - {"flip", "crop", "photometric", "none"}
        if unknown:
            raise SystemExit(f"retrain: unknown augmentations {sorted(unknown)}; use flip, crop, photometric or none")
        config = TrainConfig(num_steps=args.num_steps, batch_size=args.batch_size,
                             learning_rate=args.learning_rate, warmup_steps=args.warmup_steps,
                             log_every=args.log_every, checkpoint_every=args.checkpoint_every, seed=args.seed,
                             augment=augmentations != {"none"}, horizontal_flip="flip" in augmentations,
                             random_crop="crop" in augmentations, photometric="photometric" in augmentations,
                             freeze_backbone_steps=args.freeze_backbone_steps,
                             freeze_batch_norm=args.freeze_batch_norm, validation_every=args.validation_every,
                             early_stopping_patience=args.early_stopping_patience, strategy=args.strategy,
                             image_every=args.image_every)
        mlflow.set_tag("base_model", args.model)
        out = Path(args.output_dir).expanduser() if args.output_dir else tmp / MODEL_ARTIFACTS
        result = train(detector, [str(p) for p in record_files(data, "train")], out, config, base_weights=args.base_weights,
                       on_metrics=lambda step, metrics: mlflow.log_metrics(metrics, step=step),
                       validation_records=[str(p) for p in record_files(data, "test")]
                       if args.validation_every else None, names_to_ids=names_to_ids)
        mlflow.set_tag("batch_norm_frozen", str(result.batch_norm_frozen).lower())
        if result.best:
            mlflow.set_tags({"best_step": result.best["step"], "stopped_early": str(result.stopped_early).lower()})
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

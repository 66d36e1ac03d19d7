"""MLflow entry point ``preprocess``: LabelImg folder -> label map, CSVs, TFRecords, validation report.

With an empty ``--data-dir`` it generates the embedded default: a seeded synthetic LabelImg dataset.
"""
import argparse
from pathlib import Path

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.preprocess import preprocess
from common.synthetic import make_synthetic_dataset
from common.tracking import DATA_ARTIFACTS, metric_key
from steps._cli import step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="", help="LabelImg / Pascal VOC folder; empty: synthetic default")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="share of images held out when the folder has no train/ and test/ split")
    parser.add_argument("--label-map", default="", help="existing label_map.pbtxt (optional)")
    parser.add_argument("--seed", type=whole_number, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run() as tmp:
        data_dir = args.data_dir.strip()
        if data_dir:
            mlflow.set_tag("dataset", str(Path(data_dir).resolve()))
        else:
            data_dir = make_synthetic_dataset(tmp / "synthetic", seed=args.seed)
            mlflow.set_tag("dataset", "synthetic (generated, seeded)")
            print(f"preprocess: no data_dir given, generated the synthetic default dataset (seed {args.seed})")
        result = preprocess(data_dir, tmp / DATA_ARTIFACTS, test_fraction=args.test_fraction,
                            seed=args.seed, label_map_path=args.label_map.strip() or None)
        metrics = {"data/num_classes": result.num_classes, "data/warnings": result.num_warnings}
        for split, summary in result.summary.items():
            metrics[f"data/{split}_images"] = summary["images"]
            metrics[f"data/{split}_boxes"] = summary["boxes"]
            for name, count in summary["boxes_per_class"].items():
                metrics[metric_key(f"data/{split}_boxes/{name}")] = count
            for name, count in summary["images_per_class"].items():
                metrics[metric_key(f"data/{split}_images/{name}")] = count
        mlflow.log_metrics(metrics)
        mlflow.set_tag("split_source", result.split_source)
        mlflow.log_artifacts(str(result.output_dir), artifact_path=DATA_ARTIFACTS)
        for split, summary in result.summary.items():
            per_class = ", ".join(f"{n} {c}" for n, c in summary["boxes_per_class"].items())
            print(f"preprocess: {split}: {summary['images']} images, {summary['boxes']} boxes ({per_class})")
        if result.num_warnings:
            print(f"preprocess: {result.num_warnings} warnings, see {DATA_ARTIFACTS}/validation_report.json")


if __name__ == "__main__":
    main()

"""MLflow entry point ``preprocess``: labelled folder (VOC, CSV, Cloud Annotations, COCO, YOLO, TFRecord) ->
label map, CSVs, TFRecords, validation and dataset reports.

With an empty ``--data-dir`` it generates the embedded default: a seeded synthetic LabelImg dataset.
"""
import argparse
from pathlib import Path

import common.env  # noqa: F401  (quiet TensorFlow before it is imported)
import mlflow

from common.fingerprint import content_fingerprint, short_fingerprint
from common.formats import FORMAT_NAMES
from common.preprocess import preprocess
from common.synthetic import make_synthetic_dataset
from common.tracking import DATA_ARTIFACTS, dataset_display_name, log_dataset_input, metric_key
from steps._cli import step_run, whole_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="", help="LabelImg / Pascal VOC folder; empty: synthetic default")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="share of images held out when the folder has no train/ and test/ split")
    parser.add_argument("--label-map", default="", help="existing label_map.pbtxt (optional)")
    parser.add_argument("--seed", type=whole_number, default=42)
    parser.add_argument("--format", default="auto", choices=("auto",) + FORMAT_NAMES,
                        help="annotation format; auto: detected from the folder")
    parser.add_argument("--num-shards", type=whole_number, default=1, help="TFRecord files per split")
    parser.add_argument("--num-workers", type=whole_number, default=0,
                        help="image encoding processes; 0: one per CPU core")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with step_run("preprocess") as tmp:
        data_dir = args.data_dir.strip()
        if data_dir:
            name = dataset_display_name(Path(data_dir).resolve())
            mlflow.set_tag("dataset", str(Path(data_dir).resolve()))
        else:
            data_dir = make_synthetic_dataset(tmp / "synthetic", seed=args.seed)
            name = f"synthetic-seed{args.seed}"
            mlflow.set_tag("dataset", "synthetic (generated, seeded)")
            print(f"preprocess: no data_dir given, generated the synthetic default dataset (seed {args.seed})")
        if Path(data_dir).exists():
            fingerprint = content_fingerprint(data_dir)
            mlflow.set_tags({"dataset_fingerprint": short_fingerprint(fingerprint), "dataset_name": name})
            log_dataset_input(name, fingerprint, Path(data_dir).resolve() if args.data_dir.strip() else name,
                              context="source")
        result = preprocess(data_dir, tmp / DATA_ARTIFACTS, test_fraction=args.test_fraction,
                            seed=args.seed, label_map_path=args.label_map.strip() or None, format=args.format,
                            num_shards=args.num_shards, num_workers=args.num_workers or None)
        metrics = {"data/num_classes": result.num_classes, "data/warnings": result.num_warnings,
                   "data/passthrough_images": result.passthrough_images}
        for name in ("boxes_in", "boxes_kept", "boxes_skipped", "boxes_clipped", "images_kept", "images_skipped"):
            metrics[f"data/{name}"] = result.counts[name]
        for split, summary in result.summary.items():
            metrics[f"data/{split}_images"] = summary["images"]
            metrics[f"data/{split}_boxes"] = summary["boxes"]
            for name, count in summary["boxes_per_class"].items():
                metrics[metric_key(f"data/{split}_boxes/{name}")] = count
            for name, count in summary["images_per_class"].items():
                metrics[metric_key(f"data/{split}_images/{name}")] = count
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"split_source": result.split_source, "format": result.format})
        mlflow.log_artifacts(str(result.output_dir), artifact_path=DATA_ARTIFACTS)
        for split, summary in result.summary.items():
            per_class = ", ".join(f"{n} {c}" for n, c in summary["boxes_per_class"].items())
            print(f"preprocess: {split}: {summary['images']} images, {summary['boxes']} boxes ({per_class})")
        print("preprocess: " + result.console)
        if result.num_warnings:
            print(f"preprocess: {result.num_warnings} issues, see {DATA_ARTIFACTS}/validation_report.json "
                  f"(and .csv); histograms in {DATA_ARTIFACTS}/box_sizes.png, aspect_ratios.png")


if __name__ == "__main__":
    main()

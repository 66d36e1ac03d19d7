"""MLflow entry point ``preprocess``: labelled folder (VOC, Cloud Annotations, COCO, CreateML, labelme, CSV, YOLO,
TFRecord) -> label map, CSVs, TFRecords, validation and dataset reports.

With an empty ``--data-dir`` it generates the embedded default: a seeded synthetic LabelImg dataset.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from pathlib import Path

import mlflow

from edgetpu_detector.core.disk import disk_full_guard, folder_size
from edgetpu_detector.core.hashing import content_fingerprint, short_fingerprint
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.data.split import resolve_val_fraction
from edgetpu_detector.data.synthetic import make_synthetic_dataset
from edgetpu_detector.tracking.artifacts import log_artifacts
from edgetpu_detector.tracking.datasets import dataset_display_name, log_dataset_input
from edgetpu_detector.tracking.store import DATA_ARTIFACTS, DATASET_KIND_TAG, metric_key
from steps._args import parse_args
from steps._run import step_run


def main(argv=None):
    args = parse_args("preprocess", argv, __doc__)
    with step_run("preprocess") as tmp:
        data_dir = args["data_dir"].strip()
        mlflow.set_tag(DATASET_KIND_TAG, "real" if data_dir else "synthetic")
        try:
            val_fraction = resolve_val_fraction(args["val_fraction"], synthetic=not data_dir)
        except ValueError as error:
            raise SystemExit(f"preprocess: {error}") from None
        if data_dir:
            source = Path(data_dir).resolve()
            name = dataset_display_name(source)
            mlflow.set_tag("dataset", str(source))
        else:
            data_dir = make_synthetic_dataset(tmp / "synthetic", seed=args["seed"])
            source = name = f"synthetic-seed{args['seed']}"
            mlflow.set_tag("dataset", "synthetic (generated, seeded)")
            print(f"preprocess: no data_dir given, generated the synthetic default dataset (seed {args['seed']})")
        if Path(data_dir).exists():
            fingerprint = content_fingerprint(data_dir)
            mlflow.set_tags({"dataset_fingerprint": short_fingerprint(fingerprint), "dataset_name": name})
            log_dataset_input(name, fingerprint, source, context="source")
        # The records hold the images' JPEG bytes: about the dataset's size.
        with disk_full_guard(tmp / DATA_ARTIFACTS, lambda: folder_size(data_dir)):
            result = preprocess(data_dir, tmp / DATA_ARTIFACTS, test_fraction=args["test_fraction"],
                                seed=args["seed"], label_map_path=args["label_map"].strip() or None,
                                format=args["format"], num_shards=args["num_shards"],
                                num_workers=args["num_workers"], ignore_difficult=args["ignore_difficult"],
                                val_fraction=val_fraction)
        mlflow.log_metrics({metric_key(name): value for name, value in result.metrics().items()})
        mlflow.set_tags({"split_source": result.split_source, "format": result.format,
                         "val_source": result.val_source})
        log_artifacts(result.output_dir, DATA_ARTIFACTS)
        print("\n".join(result.lines()))


if __name__ == "__main__":
    main()

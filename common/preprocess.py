"""The preprocess step: LabelImg (Pascal VOC) folder -> label map, CSVs and TFRecords for training.

Writes into ``output_dir``:

* ``label_map.pbtxt``: TF OD API StringIntLabelMap (common.label_map), built from the sorted class
  names or copied (ids unchanged) from the user's ``label_map_path``;
* ``labels.txt``: Coral/pycoral labels, line i = id i + 1;
* ``train_labels.csv``, ``test_labels.csv``: the TF OD API tutorials' ``xml_to_csv`` layout, one row
  per box: ``filename,width,height,class,xmin,ymin,xmax,ymax`` (pixels after clipping; integers
  written as integers, other values as Python floats);
* ``train.record``, ``test.record``: TFRecords in the TF OD API tf.Example schema (common.tfrecord);
* ``validation_report.json``: counts, per-split summary and the warnings list (common.dataset).

The same input, seed and arguments give byte-identical records, CSVs and label files.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common.dataset import Dataset, discover_dataset
from common.label_map import make_label_map, read_label_map, write_label_map, write_labels_txt

CSV_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


@dataclass
class PreprocessResult:
    """Outputs and summary of ``preprocess``.

    ``summary[split]`` (split in "train", "test") = ``{"images": int, "boxes": int,
    "images_per_class": {name: images holding >= 1 box of the class}, "boxes_per_class": {name: int}}``;
    ``counts`` are the validation counters of ``common.dataset.discover_dataset``.
    """

    output_dir: Path
    label_map_path: Path
    labels_txt_path: Path
    train_record: Path
    test_record: Path
    train_csv: Path
    test_csv: Path
    report_path: Path
    names_to_ids: dict[str, int]
    num_classes: int
    split_source: str  # "folders" or "ratio"
    summary: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    num_warnings: int = 0

    @property
    def num_train(self) -> int:
        """Images in train.record."""
        return self.summary["train"]["images"]

    @property
    def num_test(self) -> int:
        """Images in test.record."""
        return self.summary["test"]["images"]


def _format_number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write_labels_csv(records, path) -> Path:
    """Write the tutorials' ``xml_to_csv`` CSV (columns ``CSV_COLUMNS``), one row per box, in record order."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in records:
            for box in record.boxes:
                writer.writerow(
                    [record.filename, record.width, record.height, box.label]
                    + [_format_number(v) for v in (box.xmin, box.ymin, box.xmax, box.ymax)]
                )
    return path


def split_summary(records) -> dict:
    """Image and box counts of one split, overall and per class (class keys sorted)."""
    boxes = Counter(box.label for record in records for box in record.boxes)
    images = Counter(label for record in records for label in {box.label for box in record.boxes})
    return {
        "images": len(records),
        "boxes": sum(boxes.values()),
        "images_per_class": dict(sorted(images.items())),
        "boxes_per_class": dict(sorted(boxes.items())),
    }


def _label_map_for(dataset: Dataset, label_map_path) -> dict[str, int]:
    classes = dataset.class_names
    if label_map_path is None:
        if not classes:
            raise ValueError(f"{dataset.data_dir}: no boxes found, cannot build a label map")
        return make_label_map(classes)
    names_to_ids = read_label_map(label_map_path)
    missing = sorted(set(classes) - set(names_to_ids))
    if missing:
        raise ValueError(f"{label_map_path}: label map lacks classes found in {dataset.data_dir}: {missing}")
    for name in sorted(set(names_to_ids) - set(classes)):
        dataset.warnings.append(
            {"file": str(label_map_path), "problem": f"class {name!r} has no boxes in the data", "action": "kept in the label map"}
        )
    return names_to_ids


def preprocess(data_dir, output_dir, test_fraction: float = 0.2, seed: int = 42, label_map_path=None,
               progress: bool = True) -> PreprocessResult:
    """Discover, validate and convert a LabelImg dataset (see module docstring for the files written).

    Args:
        data_dir: LabelImg folder (layouts in common.dataset).
        output_dir: folder for the outputs (created if needed; files are overwritten).
        test_fraction: test share in [0, 1) when the data has no train/ + test/ folders.
        seed: seed of that split.
        label_map_path: optional existing StringIntLabelMap; its ids are kept and it must name every
            class in the data (extra classes are reported).
        progress: show tqdm progress bars.

    Returns:
        PreprocessResult.

    Raises:
        FileNotFoundError: data_dir missing.
        ValueError: no usable annotations, bad test_fraction, an invalid label map or one missing
            classes, or an image that cannot be encoded (each names the file).
    """
    from common.tfrecord import write_tfrecord  # imports TensorFlow; keep discovery-only users light

    output_dir = Path(output_dir)
    dataset = discover_dataset(data_dir, test_fraction=test_fraction, seed=seed, progress=progress)
    names_to_ids = _label_map_for(dataset, label_map_path)
    output_dir.mkdir(parents=True, exist_ok=True)

    label_map_out = write_label_map(names_to_ids, output_dir / "label_map.pbtxt")
    labels_txt = write_labels_txt(names_to_ids, output_dir / "labels.txt")
    paths = {}
    for split, records in (("train", dataset.train), ("test", dataset.test)):
        paths[f"{split}_csv"] = write_labels_csv(records, output_dir / f"{split}_labels.csv")
        paths[f"{split}_record"] = output_dir / f"{split}.record"
        write_tfrecord(records, names_to_ids, paths[f"{split}_record"], progress=progress, desc=f"{split}.record")

    summary = {"train": split_summary(dataset.train), "test": split_summary(dataset.test)}
    report_path = output_dir / "validation_report.json"
    report = {
        "data_dir": str(dataset.data_dir),
        "split_source": dataset.split_source,
        "test_fraction": test_fraction,
        "seed": seed,
        "label_map": names_to_ids,
        "counts": dataset.counts,
        "summary": summary,
        "num_warnings": len(dataset.warnings),
        "warnings": dataset.warnings,
    }
    report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return PreprocessResult(
        output_dir=output_dir,
        label_map_path=label_map_out,
        labels_txt_path=labels_txt,
        report_path=report_path,
        names_to_ids=names_to_ids,
        num_classes=len(names_to_ids),
        split_source=dataset.split_source,
        summary=summary,
        counts=dataset.counts,
        num_warnings=len(dataset.warnings),
        **paths,
    )

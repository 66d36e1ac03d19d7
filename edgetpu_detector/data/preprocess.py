"""The preprocess step: a labelled dataset folder (any edgetpu_detector.data.formats format) -> label map, CSVs, TFRecords, reports.

Writes into ``output_dir``:

* ``label_map.pbtxt``: TF OD API StringIntLabelMap (edgetpu_detector.data.label_map), built from the sorted class
  names or copied (ids unchanged) from the user's ``label_map_path``;
* ``labels.txt``: Coral/pycoral labels, line i = id i + 1;
* ``train_labels.csv``, ``test_labels.csv`` (and ``val_labels.csv``): the TF OD API tutorials'
  ``xml_to_csv`` layout, one row per box: ``filename,width,height,class,xmin,ymin,xmax,ymax`` (pixels
  after clipping; integers written as integers, other values as Python floats);
* ``train.record``, ``test.record`` (and ``val.record``), or with ``num_shards`` > 1
  ``train.record-00000-of-0000N`` ...: TFRecords in the TF OD API tf.Example schema (edgetpu_detector.tfrecord.reader);
* ``validation_report.json`` / ``.csv``: every issue and its policy (edgetpu_detector.data.validation_report);
* ``dataset_report.json``, ``box_sizes.png``, ``aspect_ratios.png``: edgetpu_detector.data.dataset_report.

The same input, seed and arguments give byte-identical records, CSVs and label files, whatever the
number of worker processes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgetpu_detector.data.dataset import Dataset, discover_dataset
from edgetpu_detector.data.dataset_report import split_summary, write_dataset_report
from edgetpu_detector.data.difficult import count_difficult, drop_difficult
from edgetpu_detector.data.issues import Issues
from edgetpu_detector.data.label_map import (
    LABEL_MAP_FILE,
    LABELS_TXT,
    make_label_map,
    read_label_map,
    write_label_map,
    write_labels_txt,
)
from edgetpu_detector.data.validation_report import console_summary, write_validation_report
from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS
from edgetpu_detector.tfrecord.writer import EncoderPool, write_split


@dataclass
class PreprocessResult:
    """Outputs and summary of ``preprocess``.

    ``summary[split]`` (split in "train", "test" and, when present, "val") = ``{"images": int, "boxes": int,
    "images_per_class": {name: images holding >= 1 box of the class}, "boxes_per_class": {name: int}}``;
    ``counts`` are the validation counters of ``edgetpu_detector.data.dataset.discover_dataset`` after writing
    (``boxes_in == boxes_kept + boxes_skipped``). ``train_record``/``test_record`` are the first (or only)
    file of each split; ``record_paths[split]`` lists every shard.
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
    format: str = "voc"
    record_paths: dict = field(default_factory=dict)
    report_csv_path: Path | None = None
    dataset_report_paths: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    console: str = ""  # the console summary of the validation report
    passthrough_images: int = 0  # images whose original JPEG bytes were written unchanged
    val_source: str = ""  # where the val split comes from, or why there is none (in words)

    @property
    def num_train(self) -> int:
        """Images in the train records."""
        return self.summary["train"]["images"]

    @property
    def num_test(self) -> int:
        """Images in the test records."""
        return self.summary["test"]["images"]

    def metrics(self) -> dict:
        """``{name: number}`` as the preprocess run logs them (``data/...``; class names as written: callers
        make them MLflow-safe)."""
        metrics = {"data/num_classes": self.num_classes, "data/warnings": self.num_warnings,
                   "data/passthrough_images": self.passthrough_images}
        for name in ("boxes_in", "boxes_kept", "boxes_skipped", "boxes_clipped", "boxes_difficult",
                     "boxes_difficult_ignored", "images_kept", "images_skipped"):
            metrics[f"data/{name}"] = self.counts[name]
        for split, summary in self.summary.items():
            metrics[f"data/{split}_images"] = summary["images"]
            metrics[f"data/{split}_boxes"] = summary["boxes"]
            for name, count in summary["boxes_per_class"].items():
                metrics[f"data/{split}_boxes/{name}"] = count
            for name, count in summary["images_per_class"].items():
                metrics[f"data/{split}_images/{name}"] = count
        return metrics

    def lines(self) -> list:
        """Console lines: images and boxes per split and class, then the validation summary."""
        lines = [f"preprocess: {split}: {s['images']} images, {s['boxes']} boxes ("
                 + ", ".join(f"{n} {c}" for n, c in s["boxes_per_class"].items()) + ")"
                 for split, s in self.summary.items()]
        if self.val_source:
            lines.append("preprocess: " + self.val_source)
        lines.append("preprocess: " + self.console)
        if self.num_warnings:
            lines.append(f"preprocess: {self.num_warnings} issues, see validation_report.json (and .csv); "
                         "histograms in box_sizes.png, aspect_ratios.png")
        return lines


def _label_map_for(dataset: Dataset, given: dict | None, label_map_path, issues: Issues) -> dict[str, int]:
    classes = dataset.class_names
    if given is None:
        if not classes:
            raise ValueError(f"{dataset.data_dir}: no boxes found, cannot build a label map")
        return make_label_map(classes)
    for name in sorted(set(given) - set(classes)):
        issues.add("class_unused", str(label_map_path), f"class {name!r} has no boxes in the data",
                   "kept in the label map")
    return given


def preprocess(data_dir, output_dir, test_fraction: float = 0.2, seed: int = 42, label_map_path=None,
               progress: bool = True, format: str = "auto", num_shards: int = 1,
               num_workers: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS,
               ignore_difficult: bool = False, val_fraction: float = 0.0) -> PreprocessResult:
    """Discover, validate and convert a labelled dataset (see module docstring for the files written).

    Args:
        data_dir: dataset folder (formats in edgetpu_detector.data.formats, layouts in edgetpu_detector.data.dataset).
        output_dir: folder for the outputs (created if needed; files are overwritten).
        test_fraction: test share in [0, 1) when the data has no train/test split.
        seed: seed of that split.
        label_map_path: optional existing StringIntLabelMap; its ids are kept; classes it does not name
            are skipped and reported (``label_not_in_map``), its classes without boxes reported.
        progress: show tqdm progress bars.
        format: input format name, or None/"auto" to detect it.
        num_shards: TFRecord files per split (>= 1).
        num_workers: encoding processes; 0 (or None): one per CPU core; 1: in this process.
        max_pixels: pixel limit per image (decompression-bomb guard).
        ignore_difficult: leave PASCAL VOC "difficult" boxes out of the train split (edgetpu_detector.data.difficult);
            the test and val splits keep them, flagged, for evaluation.
        val_fraction: share of the training images held out as the val split when the data has none, in [0, 1)
            (``edgetpu_detector.data.split.carve_validation``; the steps resolve ``auto`` with
            ``resolve_val_fraction``).

    Returns:
        PreprocessResult.

    Raises:
        FileNotFoundError: data_dir missing.
        ValueError: no usable annotations, bad test_fraction, val_fraction or num_shards, an invalid label map, or no
            class left (each names the file or folder).
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    output_dir = Path(output_dir)
    given = read_label_map(label_map_path) if label_map_path else None
    dataset = discover_dataset(data_dir, test_fraction=test_fraction, seed=seed, progress=progress, format=format,
                               label_map=given, max_pixels=max_pixels, val_fraction=val_fraction)
    issues = Issues(dataset.data_dir)
    issues.items = dataset.warnings
    names_to_ids = _label_map_for(dataset, given, label_map_path, issues)
    output_dir.mkdir(parents=True, exist_ok=True)
    label_map_out = write_label_map(names_to_ids, output_dir / LABEL_MAP_FILE)
    labels_txt = write_labels_txt(names_to_ids, output_dir / LABELS_TXT)

    counts = dict(dataset.counts)
    counts["boxes_difficult_ignored"] = drop_difficult(dataset.train, issues) if ignore_difficult else 0
    counts["boxes_kept"] -= counts["boxes_difficult_ignored"]
    counts["boxes_skipped"] += counts["boxes_difficult_ignored"]
    written: dict[str, list] = {}
    paths: dict[str, list[Path]] = {}
    csv_paths: dict[str, Path] = {}
    passthrough = 0
    with EncoderPool(num_workers) as pool:
        for split, records in dataset.splits.items():
            out = write_split(records, names_to_ids, output_dir, split, pool, num_shards=num_shards,
                              max_pixels=max_pixels, progress=progress)
            for record, code, problem in out.skipped:
                n = len(record.boxes)
                counts["images_kept"] -= 1
                counts["images_skipped"] += 1
                counts["boxes_kept"] -= n
                counts["boxes_skipped"] += n
                issues.add(code, record.relpath, problem, f"image skipped ({n} boxes)" if n else "image skipped")
            written[split], paths[split], csv_paths[split] = out.written, out.record_paths, out.csv_path
            passthrough += out.passthrough

    summary = {split: split_summary(records) for split, records in written.items()}
    counts["boxes_difficult"] = sum(count_difficult(records) for records in written.values())
    report = {
        "data_dir": str(dataset.data_dir),
        "format": dataset.format,
        "formats_found": dataset.formats_found,
        "split_source": dataset.split_source,
        "test_fraction": test_fraction,
        "val_fraction": val_fraction,
        "val_source": dataset.val_source,
        "seed": seed,
        "label_map": names_to_ids,
        "counts": counts,
        "summary": summary,
        "warnings": issues.items,
    }
    report_path, report_csv = write_validation_report(report, output_dir)
    dataset_paths = write_dataset_report(written, output_dir)
    return PreprocessResult(
        output_dir=output_dir,
        label_map_path=label_map_out,
        labels_txt_path=labels_txt,
        train_record=paths["train"][0],
        test_record=paths["test"][0],
        train_csv=csv_paths["train"],
        test_csv=csv_paths["test"],
        report_path=report_path,
        names_to_ids=names_to_ids,
        num_classes=len(names_to_ids),
        split_source=dataset.split_source,
        summary=summary,
        counts=counts,
        num_warnings=len(issues.items),
        format=dataset.format,
        record_paths=paths,
        report_csv_path=report_csv,
        dataset_report_paths=dataset_paths,
        warnings=issues.items,
        console=console_summary(report),
        passthrough_images=passthrough,
        val_source=dataset.val_source,
    )

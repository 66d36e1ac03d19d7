"""Discover, read and validate a labelled dataset folder in any supported format, and split it.

Formats: edgetpu_detector.data.formats (detected automatically, or given). Layouts and splits:

* predefined split: folders (or, for CSV/COCO/TFRecord, file names) saying ``train`` and ``test``
  (``val``/``valid`` optional) anywhere under ``data_dir``, e.g. fruit_nuts' ``data/images/train``;
  each annotation belongs to the split of the nearest such folder above it (or its file name).
  When a train/test split exists, annotations in neither are reported (``outside_splits``) and left out.
* no such pair: every annotation is split by ``edgetpu_detector.data.split.stratified_split`` (seeded, each class in
  both splits where possible): ``round(n * test_fraction)`` images per class group go to test.
* validation: the ``val`` folder or file when the input has one; else, with ``val_fraction`` > 0, a share of the
  training images (``edgetpu_detector.data.split.carve_validation``, seeded and stratified the same way). The
  test split never gives an image to train or val.

Validation: edgetpu_detector.data.annotation_checks (per image and box), edgetpu_detector.data.class_names (class names, label map), plus:
two annotations of one image -> ``duplicate_image`` (the second skipped); an image file that no
annotation names -> ``annotation_missing`` (not used); an image without objects -> ``no_objects``
(kept as a negative). Every issue goes to ``Dataset.warnings`` (codes and policies in edgetpu_detector.data.issues).

Accounting: ``counts["boxes_in"]`` (every object read) ``== counts["boxes_kept"] + counts["boxes_skipped"]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgetpu_detector.data.annotation_checks import validate
from edgetpu_detector.data.class_names import apply_label_policy
from edgetpu_detector.data.formats.base import SPLIT_NAMES, RawAnnotation, Unreadable
from edgetpu_detector.data.formats.registry import READERS, detect_format, detect_formats
from edgetpu_detector.data.image_finder import ImageFinder
from edgetpu_detector.data.issues import Issues
from edgetpu_detector.data.split import carve_validation, stratified_split
from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS
from edgetpu_detector.tfrecord.records import ImageRecord


@dataclass
class Dataset:
    """A discovered, validated dataset split into train, test (and val when the input has it)."""

    data_dir: Path
    train: list[ImageRecord]
    test: list[ImageRecord]
    split_source: str  # "folders" (train/test given by folders or files) or "ratio" (seeded split)
    warnings: list[dict] = field(default_factory=list)  # {"code", "file", "problem", "action"}
    counts: dict = field(default_factory=dict)  # see discover_dataset
    val: list[ImageRecord] = field(default_factory=list)
    format: str = "voc"
    formats_found: list[str] = field(default_factory=list)
    val_source: str = ""  # where the val split comes from, in words (see carve_validation)

    @property
    def splits(self) -> dict[str, list[ImageRecord]]:
        """{"train": ..., "test": ...} plus "val" when it holds images."""
        out = {"train": self.train, "test": self.test}
        if self.val:
            out["val"] = self.val
        return out

    @property
    def class_names(self) -> list[str]:
        """Sorted class names present in any split."""
        return sorted({box.label for records in self.splits.values() for record in records for box in record.boxes})


_COUNTERS = ("annotations", "images_kept", "images_skipped", "images_without_boxes", "images_unannotated",
             "boxes_in", "boxes_kept", "boxes_clipped", "boxes_skipped", "boxes_float", "size_mismatches",
             "xml_outside_splits")


def discover_dataset(data_dir, test_fraction: float = 0.2, seed: int = 42, progress: bool = False,
                     format: str = "auto", label_map: dict[str, int] | None = None,
                     max_pixels: int = DEFAULT_MAX_PIXELS, val_fraction: float = 0.0) -> Dataset:
    """Find, read and validate every annotation under ``data_dir`` and split it.

    Args:
        data_dir: dataset folder (layouts in the module docstring).
        test_fraction: share of images for test when the input has no train/test split, in [0, 1).
        seed: seed of the split.
        progress: show a tqdm bar while validating.
        format: one of edgetpu_detector.data.formats.registry.FORMAT_NAMES; None or "auto": detected.
        label_map: ``{name: id}`` of a given label map (applies its class policy; also names class ids
            of TFRecord input without class text); None: classes come from the data.
        max_pixels: pixel limit per image (decompression-bomb guard).
        val_fraction: share of the training images held out for validation when the input has no val
            split, in [0, 1) (``edgetpu_detector.data.split.carve_validation``).

    Returns:
        Dataset with records in input order within each split, the issues (``warnings``) and counts
        (``annotations, images_kept, images_skipped, images_without_boxes, images_unannotated, boxes_in,
        boxes_kept, boxes_clipped, boxes_skipped, boxes_float, size_mismatches, xml_outside_splits``;
        ``xml_files`` is kept as an alias of ``annotations``).

    Raises:
        FileNotFoundError: when data_dir is not a directory.
        ValueError: unknown format, no annotations in the format, no image survives validation, or
            test_fraction or val_fraction out of range (each message names the folder).
    """
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: dataset folder not found")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if format in (None, "", "auto"):
        format = detect_format(data_dir)
    if format not in READERS:
        raise ValueError(f"unknown format {format!r}; choose one of: auto, {', '.join(READERS)}")
    reader = READERS[format]
    issues = Issues(data_dir)
    if format == "tfrecord":
        items = reader.read(data_dir, {v: k for k, v in (label_map or {}).items()})
    else:
        items = reader.read(data_dir)
    raws: list[RawAnnotation] = []
    for item in items:
        if isinstance(item, Unreadable):
            issues.counts["boxes_in"] += item.boxes
            issues.counts["boxes_skipped"] += item.boxes
            if item.code != "csv_ignored":
                issues.counts["images_skipped"] += 1
            issues.add(item.code, item.source, item.problem,
                       "file not read" if item.code == "csv_ignored" else
                       f"skipped ({item.boxes} boxes)" if item.boxes else "skipped")
            continue
        raws.append(item)
    issues.counts["annotations"] = len(raws)
    if not raws and not issues.items:
        raise ValueError(f"{data_dir}: no {format} annotations found")

    present = {raw.split for raw in raws}
    use_folders = {"train", "test"} <= present
    finder = ImageFinder(data_dir)
    iterator = raws
    if progress:
        from tqdm import tqdm

        iterator = tqdm(raws, desc="annotations", unit="img")
    records: list[ImageRecord] = []
    seen: dict = {}
    referenced: set[Path] = set()
    for raw in iterator:
        if use_folders and raw.split is None:
            issues.counts["xml_outside_splits"] += 1
            issues.counts["images_skipped"] += 1
            issues.counts["boxes_in"] += len(raw.objects)
            issues.counts["boxes_skipped"] += len(raw.objects)
            issues.add("outside_splits", raw.source, "annotation is under none of the train/test/val folders",
                       f"image skipped ({len(raw.objects)} boxes)" if raw.objects else "image skipped")
            continue
        record = validate(raw, finder, issues, max_pixels=max_pixels)
        if record is None:
            continue
        referenced.add(record.image_path)
        key = (record.image_path, record.record_offset) if record.record_offset is None else ("record", record.relpath)
        if key in seen:
            issues.counts["images_skipped"] += 1
            issues.counts["boxes_skipped"] += len(record.boxes)
            first = seen[key]
            issues.add("duplicate_image", raw.source, f"image {record.relpath} is already annotated by "
                       f"{issues.rel(first.xml_path)}" + (f" ({first.split})" if first.split else ""),
                       f"image skipped ({len(record.boxes)} boxes)" if record.boxes else "image skipped")
            continue
        seen[key] = record
        records.append(record)

    apply_label_policy(records, issues, list(label_map) if label_map is not None else None)
    for record in records:
        if not record.boxes:
            issues.counts["images_without_boxes"] += 1
            issues.add("no_objects", record.xml_path, f"image {record.relpath} has no objects",
                       "kept as a negative (background) image")
    if format != "tfrecord":
        for images in finder.all_images().values():
            for path in images:
                if path.resolve() not in referenced and path not in finder.referenced:
                    issues.counts["images_unannotated"] += 1
                    issues.add("annotation_missing", path, "image has no annotation", "not used")

    if use_folders:
        parts = {split: [r for r in records if r.split == split] for split in SPLIT_NAMES}
    else:
        train, test = stratified_split(records, test_fraction, seed)
        parts = {"train": train, "test": test, "val": []}
        for record in records:
            record.split = None
    if parts["val"]:
        val_source = f"validation split: the dataset's own val split ({len(parts['val'])} images)"
    else:
        try:
            parts["train"], parts["val"], val_source = carve_validation(parts["train"], val_fraction, seed)
        except ValueError as error:
            raise ValueError(f"{data_dir}: {error}") from None
    counts = {name: int(issues.counts.get(name, 0)) for name in _COUNTERS}
    counts["images_kept"] = len(records)
    counts["boxes_kept"] = sum(len(r.boxes) for r in records)
    counts["xml_files"] = counts["annotations"]
    if not records:
        first = "; ".join(f"{w['file']}: {w['problem']}" for w in issues.items[:3])
        raise ValueError(f"{data_dir}: no usable annotated image ({len(issues.items)} issues; first: {first})")
    return Dataset(data_dir=data_dir, train=parts["train"], test=parts["test"], val=parts["val"],
                   split_source="folders" if use_folders else "ratio", warnings=issues.items, counts=counts,
                   format=format, formats_found=detect_formats(data_dir) if format else [], val_source=val_source)

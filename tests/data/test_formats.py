"""Every input format (edgetpu_detector.data.formats) on real data: the same fruit_nuts boxes written as VOC, CSV, Cloud
Annotations, COCO, YOLO and TFRecord give the same records; the real CSVs of raccoon and playing_cards."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from collections import Counter
import csv
import json
from pathlib import Path
import shutil

import numpy as np
import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.formats.registry import detect_format
from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.tfrecord.reader import read_examples

FRUIT_COUNTS = {"date": 71, "hazelnut": 53, "fig": 40}


def _by_name(result):
    out = {}
    for split in ("train", "test"):
        for example in read_examples(result.record_paths[split][0]):
            out[example["filename"]] = (split, example)
    return out


@pytest.fixture(scope="module")
def fruit(shared_dir, tmp_path_factory):
    """fruit_nuts' VOC preprocess output plus its annotations parsed, for writing other formats."""
    source = shared_dir / "datasets/fruit_nuts/data/images"
    out = tmp_path_factory.mktemp("fruit_voc")
    reference = preprocess(shared_dir / "datasets/fruit_nuts", out, progress=False, num_workers=1)
    annotations = {split: [parse_voc_xml(p) for p in sorted((source / split).glob("*.xml"))] for split in ("train", "test")}
    return source, reference, annotations


def _copy_images(source: Path, target: Path) -> None:
    """Test-local copies of the 18 JPEGs (in pytest's tmp folder, never in the repository)."""
    for split in ("train", "test"):
        (target / split).mkdir(parents=True, exist_ok=True)
        for image in sorted((source / split).glob("*.jpg")):
            shutil.copyfile(image, target / split / image.name)


def _write_csv(root, annotations):
    for split, items in annotations.items():
        with (root / f"{split}_labels.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"])
            for a in items:
                for o in a.objects:
                    writer.writerow([a.filename, a.width, a.height, o.name, o.xmin, o.ymin, o.xmax, o.ymax])


def _write_cloud_annotations(root, annotations):
    for split, items in annotations.items():
        doc = {"version": "1.0", "type": "localization", "labels": sorted(FRUIT_COUNTS),
               "annotations": {a.filename: [{"x": o.xmin / a.width, "y": o.ymin / a.height, "x2": o.xmax / a.width,
                                             "y2": o.ymax / a.height, "label": o.name} for o in a.objects]
                               for a in items}}
        (root / split / "_annotations.json").write_text(json.dumps(doc))


def _write_coco(root, annotations):
    names = sorted(FRUIT_COUNTS)
    for split, items in annotations.items():
        images, boxes = [], []
        for i, a in enumerate(items):
            images.append({"id": i, "file_name": f"{split}/{a.filename}", "width": a.width, "height": a.height})
            for o in a.objects:
                boxes.append({"id": len(boxes) + 1, "image_id": i, "category_id": names.index(o.name) + 1,
                              "bbox": [o.xmin, o.ymin, o.xmax - o.xmin, o.ymax - o.ymin], "iscrowd": 0})
        doc = {"images": images, "annotations": boxes,
               "categories": [{"id": k + 1, "name": n} for k, n in enumerate(names)]}
        (root / f"instances_{split}.json").write_text(json.dumps(doc))


def _write_yolo(root, annotations):
    names = sorted(FRUIT_COUNTS)
    (root / "classes.txt").write_text("\n".join(names) + "\n")
    for split, items in annotations.items():
        for a in items:
            lines = [f"{names.index(o.name)} {(o.xmin + o.xmax) / 2 / a.width:.6f} {(o.ymin + o.ymax) / 2 / a.height:.6f} "
                     f"{(o.xmax - o.xmin) / a.width:.6f} {(o.ymax - o.ymin) / a.height:.6f}" for o in a.objects]
            (root / split / (Path(a.filename).stem + ".txt")).write_text("\n".join(lines) + "\n")


WRITERS = {"csv": _write_csv, "cloud_annotations": _write_cloud_annotations, "coco": _write_coco, "yolo": _write_yolo}


@pytest.mark.parametrize("name", sorted(WRITERS) + ["tfrecord"])
def test_every_format_gives_the_same_records(fruit, tmp_path, name):
    source, reference, annotations = fruit
    data = tmp_path / "data"
    if name == "tfrecord":
        data.mkdir()
        for split in ("train", "test"):
            shutil.copyfile(reference.record_paths[split][0], data / f"{split}.record")
    else:
        _copy_images(source, data)
        WRITERS[name](data, annotations)
    assert detect_format(data) == name
    result = preprocess(data, tmp_path / "out", progress=False, num_workers=1)
    assert result.format == name and result.split_source == "folders"
    assert (result.num_train, result.num_test) == (16, 2)
    assert result.names_to_ids == reference.names_to_ids
    assert result.counts["boxes_in"] == 164 == result.counts["boxes_kept"] and result.counts["boxes_skipped"] == 0
    if name == "yolo":  # LabelImg writes YOLO with 6 decimals: a box on the border can overshoot by < 0.001 px
        assert {w["code"] for w in result.warnings} == {"box_clipped"}
        assert result.counts["boxes_clipped"] == len(result.warnings) == 1
    else:
        assert result.warnings == []
    got, want = _by_name(result), _by_name(reference)
    assert sorted(got) == sorted(want)
    per_class = Counter(t for _, e in got.values() for t in e["class_text"])
    assert per_class == FRUIT_COUNTS
    for filename, (split, example) in want.items():
        other_split, other = got[filename]
        assert other_split == split
        assert other["sha256"] == example["sha256"]  # the original JPEG passed through, byte for byte
        assert other["class_text"] == example["class_text"]
        atol = {"yolo": 1e-6 + 5e-7 * 2, "cloud_annotations": 2e-6}.get(name, 1e-6)  # 6 decimals; float32
        np.testing.assert_allclose(other["boxes"], example["boxes"], atol=atol)
    assert result.passthrough_images == 18


def test_detect_format_on_the_real_datasets(shared_dir, tmp_path):
    datasets = shared_dir / "datasets"
    assert [detect_format(datasets / n) for n in ("fruit_nuts", "raccoon", "playing_cards", "license_plates_vott")] \
        == ["voc"] * 4
    with pytest.raises(ValueError, match="no annotations found in any known format") as info:
        detect_format(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_raccoon_csv_split_files_and_label_map(shared_dir, tmp_path):
    root = shared_dir / "datasets/raccoon"
    result = preprocess(root, tmp_path, format="csv", label_map_path=root / "training/object-detection.pbtxt",
                        progress=False, num_workers=1)
    assert result.split_source == "folders"  # the split CSVs are kept, not re-split
    train_rows = list(csv.DictReader((root / "data/train_labels.csv").open()))
    test_rows = list(csv.DictReader((root / "data/test_labels.csv").open()))
    assert (result.summary["train"]["boxes"], result.summary["test"]["boxes"]) == (len(train_rows), len(test_rows))
    assert (result.num_train, result.num_test) == (len({r["filename"] for r in train_rows}),
                                                   len({r["filename"] for r in test_rows}))
    assert result.counts["boxes_in"] == 217 == result.counts["boxes_kept"]
    assert Counter(w["code"] for w in result.warnings) == {"converted_to_rgb": 3, "csv_ignored": 1}
    ignored = next(w for w in result.warnings if w["code"] == "csv_ignored")
    assert ignored == {"code": "csv_ignored", "file": "data/raccoon_labels.csv",
                       "problem": "not a split file; the split files test_labels.csv, train_labels.csv are used instead",
                       "action": "file not read"}
    examples = [e for split in ("train", "test") for e in read_examples(result.record_paths[split][0])]
    assert sum(len(e["classes"]) for e in examples) == 217 and all(e["image"].shape[2] == 3 for e in examples)


def test_playing_cards_voc_and_csv_agree(shared_dir):
    root = shared_dir / "datasets/playing_cards"
    voc = discover_dataset(root)
    from_csv = discover_dataset(root, format="csv")
    assert (voc.format, from_csv.format) == ("voc", "csv")
    for dataset in (voc, from_csv):
        assert (len(dataset.train), len(dataset.test)) == (296, 67)
        assert dataset.counts["boxes_in"] == 670 == dataset.counts["boxes_kept"]
        assert dataset.warnings == []
    suffixes = Counter(r.image_path.suffix for r in voc.train + voc.test)
    assert set(suffixes) == {".JPG", ".jpg"}  # mixed extensions, all found

    def boxes(ds):
        return {r.relpath: sorted(tuple(b)[:5] for b in r.boxes) for r in ds.train + ds.test}

    assert boxes(voc) == boxes(from_csv)
    # VOC carries the <truncated> flags (34 objects in the XML); the CSV cannot say
    assert [sum(b.truncated for r in ds.train + ds.test for b in r.boxes) for ds in (voc, from_csv)] == [34, 0]


def test_license_plates_issues_and_accounting(shared_dir, tmp_path):
    result = preprocess(shared_dir / "datasets/license_plates_vott", tmp_path, test_fraction=0.25, seed=7,
                        progress=False, num_workers=1)
    assert Counter(w["code"] for w in result.warnings) == {"unusual_name": 40, "format_mismatch": 40,
                                                           "converted_to_rgb": 40}
    assert result.counts["boxes_in"] == 57 == result.counts["boxes_kept"] and result.counts["boxes_float"] == 57
    assert result.passthrough_images == 0
    first = next(w for w in result.warnings if w["file"].endswith("dayride_type1_001.mp4#t=1055.jpg")
                 and w["code"] == "unusual_name")
    assert first["problem"] == "file name has '#', '='"


def _write_with_labelimg(fmt, root, annotations, one_file=False):
    """Save every image as LabelImg 1.8.6's GUI would, with its own writers (tests/labelimg_tools.py)."""
    from tests.labelimg_tools import write_labelimg

    classes = []  # LabelImg's class list grows as boxes are saved; YOLO's classes.txt is written from it
    for split, items in annotations.items():
        for a in items:
            objects = [(o.name, o.xmin, o.ymin, o.xmax, o.ymax, o.difficult) for o in a.objects]
            write_labelimg(fmt, root / split / a.filename, a.width, a.height, objects, classes,
                           save_dir=root / split / "labels" if fmt == "createml" else None,
                           createml_file=root / split / "annotations.json" if one_file else None)


def _write_labelme(root, annotations):
    """labelme's LabelFile layout (labelme/_label_file.py: write_label_file), JSON in an ``annotations/`` folder
    beside the images: labelme itself cannot be imported here (it needs Qt and onnxruntime)."""
    for split, items in annotations.items():
        (root / split / "annotations").mkdir()
        for a in items:
            shapes = [{"label": o.name, "points": [[o.xmax, o.ymax], [o.xmin, o.ymin]], "group_id": None,
                       "description": "", "shape_type": "rectangle", "flags": {}, "mask": None} for o in a.objects]
            doc = {"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": f"..\\{a.filename}",
                   "imageData": None, "imageHeight": a.height, "imageWidth": a.width}
            (root / split / "annotations" / (Path(a.filename).stem + ".json")).write_text(json.dumps(doc, indent=2))


@pytest.mark.parametrize("name", ["voc", "yolo", "createml", "createml_one_file", "labelme"])
def test_labelimg_formats_and_labelme_give_the_same_records(fruit, tmp_path, name):
    """LabelImg's three save formats (written by LabelImg's own writers: per-image CreateML files in a separate
    save folder, or one annotations.json per folder) and labelme give fruit_nuts' records, box for box."""
    source, reference, annotations = fruit
    data = tmp_path / "data"
    _copy_images(source, data)
    if name == "labelme":
        _write_labelme(data, annotations)
    else:
        _write_with_labelimg(name.split("_")[0], data, annotations, one_file=name.endswith("one_file"))
    fmt = name.split("_")[0]
    assert detect_format(data) == fmt
    result = preprocess(data, tmp_path / "out", progress=False, num_workers=1)
    assert (result.format, result.num_train, result.num_test) == (fmt, 16, 2)
    assert result.counts["boxes_in"] == 164 == result.counts["boxes_kept"]
    assert {w["code"] for w in result.warnings} <= ({"box_clipped"} if fmt == "yolo" else set())
    got, want = _by_name(result), _by_name(reference)
    assert sorted(got) == sorted(want)
    for filename, (split, example) in want.items():
        other_split, other = got[filename]
        assert other_split == split and other["sha256"] == example["sha256"]
        assert other["class_text"] == example["class_text"]
        np.testing.assert_allclose(other["boxes"], example["boxes"], atol=2e-6 if fmt == "yolo" else 1e-6)
        assert not other["difficult"].any()


def test_labelme_shapes_paths_and_createml_defects(tmp_path, shared_dir):
    image = shared_dir / "datasets/fruit_nuts/data/images/test/10.jpg"
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "json").mkdir()
    shutil.copyfile(image, data / "images/a.jpg")
    shapes = [{"label": "fig", "shape_type": "polygon", "points": [[10, 20], [50, 5], [30, 60]], "flags": {}},
              {"label": "fig", "shape_type": "circle", "points": [[100, 100], [120, 100]], "flags": {}},
              {"label": "date", "shape_type": "rectangle", "points": [[300, 200], [200, 100]],
               "flags": {"difficult": True}}]
    (data / "json/a.json").write_text(json.dumps({"shapes": shapes, "imagePath": "../images/a.jpg",
                                                  "imageHeight": 600, "imageWidth": 800}))
    (data / "json/outside.json").write_text(json.dumps({"shapes": [], "imagePath": "../../x.jpg"}))
    dataset = discover_dataset(data, format="labelme", test_fraction=0.0)
    (record,) = dataset.train
    assert [tuple(b) for b in record.boxes] == [("fig", 10.0, 5.0, 50.0, 60.0, False, False),
                                                ("date", 200.0, 100.0, 300.0, 200.0, True, False)]
    codes = Counter(w["code"] for w in dataset.warnings)
    assert codes == {"polygon": 1, "shape_unsupported": 1, "path_outside_dataset": 1}
    assert dataset.counts["boxes_in"] == 3 == dataset.counts["boxes_kept"] + dataset.counts["boxes_skipped"]

    createml = tmp_path / "createml"
    (createml / "images").mkdir(parents=True)
    shutil.copyfile(image, createml / "images/a.jpg")
    (createml / "images/annotations.json").write_text(json.dumps([
        {"image": "a.jpg", "annotations": [{"label": "fig", "coordinates": {"x": 30, "y": 40, "width": 20,
                                                                          "height": "?"}}]},
        {"annotations": []}]))
    dataset = discover_dataset(createml, test_fraction=0.0)
    assert dataset.format == "createml" and dataset.train[0].boxes == []
    assert Counter(w["code"] for w in dataset.warnings) == {"box_invalid": 1, "annotation_invalid": 1,
                                                            "no_objects": 1}

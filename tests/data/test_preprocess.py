"""Tests of the preprocess library on the real LabelImg datasets in ../shared/datasets and on generated data."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from collections import Counter
import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.data.label_map import (
    label_map_to_text,
    make_label_map,
    read_label_map,
    write_label_map,
    write_labels_txt,
)
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.data.split import seeded_split
from edgetpu_detector.data.synthetic import CLASSES, make_synthetic_dataset, voc_xml
from edgetpu_detector.tfrecord.reader import parse_example, read_examples


def _examples(result):
    return {"train": list(read_examples(result.train_record)), "test": list(read_examples(result.test_record))}


def _box_count(examples, names_to_ids):
    ids_to_names = {v: k for k, v in names_to_ids.items()}
    return Counter(ids_to_names[int(c)] for ex in examples for c in ex["classes"])


def _all_bytes(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- real datasets


@pytest.fixture(scope="module")
def fruit_nuts(shared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("fruit_nuts")
    return preprocess(shared_dir / "datasets/fruit_nuts", out, progress=False)


@pytest.fixture(scope="module")
def raccoon(shared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("raccoon")
    label_map = shared_dir / "datasets/raccoon/training/object-detection.pbtxt"
    return preprocess(shared_dir / "datasets/raccoon", out, seed=42, label_map_path=label_map, progress=False)


@pytest.fixture(scope="module")
def plates(shared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("plates")
    return preprocess(shared_dir / "datasets/license_plates_vott", out, test_fraction=0.25, seed=7, progress=False)


def test_fruit_nuts_counts_land_in_records(fruit_nuts, shared_dir):
    assert fruit_nuts.split_source == "folders"
    assert fruit_nuts.names_to_ids == {"date": 1, "fig": 2, "hazelnut": 3}
    assert fruit_nuts.num_classes == 3
    assert (fruit_nuts.num_train, fruit_nuts.num_test) == (16, 2)
    assert fruit_nuts.num_warnings == 0
    examples = _examples(fruit_nuts)
    assert (len(examples["train"]), len(examples["test"])) == (16, 2)
    counts = _box_count(examples["train"] + examples["test"], fruit_nuts.names_to_ids)
    assert counts == {"date": 71, "hazelnut": 53, "fig": 40}
    assert sum(counts.values()) == 164
    summary = fruit_nuts.summary
    assert summary["train"]["boxes"] + summary["test"]["boxes"] == 164
    assert {k: summary["train"]["boxes_per_class"][k] + summary["test"]["boxes_per_class"].get(k, 0)
            for k in counts} == dict(counts)
    assert max(len(ex["classes"]) for ex in examples["train"] + examples["test"]) == 13

    # Boxes are ymin, xmin, ymax, xmax normalized: compare one image with its XML.
    ex = next(e for e in examples["train"] if e["filename"] == "0.jpg")
    assert ex["image"].shape == (600, 800, 3) and ex["image"].dtype == np.uint8
    assert ex["source_id"] == "data/images/train/0.jpg"
    ann = parse_voc_xml(shared_dir / "datasets/fruit_nuts/data/images/train/0.xml")
    expected = np.array([[o.ymin / 600, o.xmin / 800, o.ymax / 600, o.xmax / 800] for o in ann.objects], np.float32)
    np.testing.assert_allclose(ex["boxes"], expected, rtol=0, atol=1e-6)
    assert ex["class_text"] == [o.name for o in ann.objects]
    # An RGB JPEG is passed through byte for byte.
    original = (shared_dir / "datasets/fruit_nuts/data/images/train/0.jpg").read_bytes()
    assert ex["sha256"] == hashlib.sha256(original).hexdigest()


def test_fruit_nuts_side_files(fruit_nuts):
    assert fruit_nuts.labels_txt_path.read_text() == "date\nfig\nhazelnut\n"
    assert read_label_map(fruit_nuts.label_map_path) == fruit_nuts.names_to_ids
    rows = fruit_nuts.train_csv.read_text().splitlines()
    assert rows[0] == "filename,width,height,class,xmin,ymin,xmax,ymax"
    assert len(rows) - 1 + len(fruit_nuts.test_csv.read_text().splitlines()) - 1 == 164
    assert rows[1] == "0.jpg,800,600,date,101,117,240,286"  # integers stay integers, as in xml_to_csv
    report = json.loads(fruit_nuts.report_path.read_text())
    assert report["warnings"] == [] and report["counts"]["boxes_kept"] == 164


def test_raccoon_grayscale_border_and_split(raccoon, shared_dir):
    assert raccoon.split_source == "ratio"
    assert raccoon.names_to_ids == {"raccoon": 1}
    assert (raccoon.num_train, raccoon.num_test) == (160, 40)
    examples = _examples(raccoon)
    every = examples["train"] + examples["test"]
    assert len(every) == 200 and len({e["source_id"] for e in every}) == 200
    assert sum(len(e["classes"]) for e in every) == 217
    assert raccoon.counts["boxes_clipped"] == 0 and raccoon.counts["boxes_skipped"] == 0

    boxes = np.concatenate([e["boxes"] for e in every])
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0
    touching = np.any((boxes[:, :2] == 0.0) | (boxes[:, 2:] == 1.0), axis=1)
    assert int(touching.sum()) == 36

    images_dir = shared_dir / "datasets/raccoon/images"
    gray = sorted(p.name for p in images_dir.glob("*.jpg") if Image.open(p).mode == "L")
    assert len(gray) == 3
    by_name = {e["filename"]: e for e in every}
    for name in gray:
        ex = by_name[name]
        assert ex["image"].ndim == 3 and ex["image"].shape[2] == 3
        assert np.array_equal(ex["image"][..., 0], ex["image"][..., 2])  # gray stays gray
        assert ex["sha256"] != hashlib.sha256((images_dir / name).read_bytes()).hexdigest()  # re-encoded
        assert len(ex["boxes"]) >= 1


def test_seeded_split_is_deterministic(shared_dir):
    first = discover_dataset(shared_dir / "datasets/raccoon", test_fraction=0.2, seed=42)
    again = discover_dataset(shared_dir / "datasets/raccoon", test_fraction=0.2, seed=42)
    other = discover_dataset(shared_dir / "datasets/raccoon", test_fraction=0.2, seed=43)
    names = lambda ds: [r.relpath for r in ds.test]  # noqa: E731
    assert names(first) == names(again)
    assert names(first) != names(other)
    assert len(first.test) == 40
    assert seeded_split(list(range(10)), 0.3, 1) == seeded_split(list(range(10)), 0.3, 1)
    with pytest.raises(ValueError, match="test_fraction"):
        seeded_split([1, 2], 1.0, 0)


def test_license_plates_png_rgba_float_coords(plates, shared_dir):
    examples = _examples(plates)
    every = examples["train"] + examples["test"]
    assert len(every) == 40 and (plates.num_train, plates.num_test) == (30, 10)
    assert sum(len(e["classes"]) for e in every) == 57
    assert plates.summary["train"]["boxes"] + plates.summary["test"]["boxes"] == 57
    assert plates.names_to_ids == {"license-plate": 1}

    folder = shared_dir / "datasets/license_plates_vott/dataset/valid"
    ex = next(e for e in every if e["filename"] == "dayride_type1_001.mp4#t=1055.jpg")
    assert ex["image"].shape == (720, 1280, 3)
    assert ex["source_id"] == "dataset/valid/images/dayride_type1_001.mp4#t=1055.jpg"
    ann = parse_voc_xml(folder / "annots/dayride_type1_001.mp4#t=1055.xml")
    np.testing.assert_allclose(ex["boxes"][0], [ann.objects[0].ymin / 720, ann.objects[0].xmin / 1280,
                                                ann.objects[0].ymax / 720, ann.objects[0].xmax / 1280], atol=1e-6)
    # The PNG-in-.jpg RGBA source is re-encoded to an RGB JPEG close to the original pixels.
    source = Image.open(folder / "images/dayride_type1_001.mp4#t=1055.jpg")
    assert (source.format, source.mode) == ("PNG", "RGBA")
    rgb = np.asarray(source.convert("RGB"), np.float32)
    assert np.abs(ex["image"].astype(np.float32) - rgb).mean() < 4.0
    # Float coordinates go to the CSV unrounded.
    assert "113.10026892047637" in plates.train_csv.read_text() + plates.test_csv.read_text()


def test_records_are_byte_identical(plates, shared_dir, tmp_path):
    again = preprocess(shared_dir / "datasets/license_plates_vott", tmp_path, test_fraction=0.25, seed=7, progress=False)
    assert again.summary == plates.summary
    assert _all_bytes(tmp_path) == _all_bytes(plates.output_dir)


def test_parse_example_in_tf_data(fruit_nuts):
    import tensorflow as tf

    ds = tf.data.TFRecordDataset(str(fruit_nuts.test_record)).map(parse_example)
    assert ds.element_spec["image"].shape.as_list() == [None, None, 3]
    assert ds.element_spec["boxes"].shape.as_list() == [None, 4]
    for example in ds.take(1):
        assert example["image"].dtype == tf.uint8
        assert example["boxes"].dtype == tf.float32 and example["classes"].dtype == tf.int32
        assert int(example["height"]) == 600 and int(example["width"]) == 800


# --------------------------------------------------------------------------- label maps


def test_label_map_round_trip(shared_dir, tmp_path):
    cases = {
        "datasets/raccoon/training/object-detection.pbtxt": {"raccoon": 1},
        "datasets/playing_cards/training/labelmap.pbtxt":
            {"nine": 1, "ten": 2, "jack": 3, "queen": 4, "king": 5, "ace": 6},
    }
    for relative, expected in cases.items():
        names_to_ids = read_label_map(shared_dir / relative)
        assert names_to_ids == expected
        written = write_label_map(names_to_ids, tmp_path / "label_map.pbtxt")
        assert read_label_map(written) == expected
        assert label_map_to_text(read_label_map(written)) == written.read_text()
    write_labels_txt(read_label_map(shared_dir / "datasets/playing_cards/training/labelmap.pbtxt"), tmp_path / "labels.txt")
    assert (tmp_path / "labels.txt").read_text().splitlines() == ["nine", "ten", "jack", "queen", "king", "ace"]


def test_make_label_map_and_labels_txt(tmp_path):
    assert make_label_map(["b", "a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}
    assert make_label_map(["c", "a", "b"]) == make_label_map(["a", "b", "c"])
    write_labels_txt({"a": 1, "c": 3}, tmp_path / "gap.txt")
    assert (tmp_path / "gap.txt").read_text() == "a\nn/a\nc\n"
    with pytest.raises(ValueError, match="starts with a number"):
        write_labels_txt({"2 cats": 1}, tmp_path / "bad.txt")
    with pytest.raises(ValueError):
        make_label_map([])


@pytest.mark.parametrize(
    "text, problem",
    [
        ("item { id: 1 name: 'a' } item { id: 1 name: 'b' }", "duplicate id"),
        ("item { id: 1 name: 'a' } item { id: 2 name: 'a' }", "duplicate name"),
        ("item { id: 0 name: 'a' }", "ids must be >= 1"),
        ("item { id: -3 name: 'a' }", "ids must be >= 1"),
        ("item { id: 1 name: 'a' ", "not a valid StringIntLabelMap"),
        ("item { id: 1 nmae: 'a' }", "not a valid StringIntLabelMap"),
        ("", "no items"),
    ],
)
def test_bad_label_maps_are_rejected(tmp_path, text, problem):
    path = tmp_path / "broken.pbtxt"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem) as info:
        read_label_map(path)
    assert "broken.pbtxt" in str(info.value)


def test_label_map_accepts_background_and_display_name(tmp_path):
    path = tmp_path / "lm.pbtxt"
    path.write_text("item { id: 0 name: 'background' }\nitem { id: 1 name: 'cat' display_name: 'Cat' }\n")
    assert read_label_map(path) == {"cat": 1}


def test_preprocess_with_label_map_missing_a_class(shared_dir, tmp_path):
    path = tmp_path / "lm.pbtxt"
    path.write_text("item { id: 1 name: 'date' }\nitem { id: 2 name: 'fig' }\n")
    # Policy: boxes of a class the given label map lacks are skipped, counted and reported; nothing else is lost.
    result = preprocess(shared_dir / "datasets/fruit_nuts", tmp_path / "out", label_map_path=path, progress=False,
                        num_workers=1)
    assert result.names_to_ids == {"date": 1, "fig": 2}
    assert result.counts["boxes_in"] == 164 and result.counts["boxes_skipped"] == 53
    assert result.summary["train"]["boxes"] + result.summary["test"]["boxes"] == 164 - 53
    dropped = [w for w in result.warnings if w["code"] == "label_not_in_map"]
    assert {w["problem"] for w in dropped} == {"class 'hazelnut' is not in the label map"}
    assert sum(int(w["action"].split("(")[1].split()[0]) for w in dropped) == 53


# --------------------------------------------------------------------------- synthetic data


def test_synthetic_dataset_is_deterministic(tmp_path):
    a = make_synthetic_dataset(tmp_path / "a", num_train=12, num_test=4, seed=3)
    b = make_synthetic_dataset(tmp_path / "b", num_train=12, num_test=4, seed=3)
    c = make_synthetic_dataset(tmp_path / "c", num_train=12, num_test=4, seed=4)
    files_a = {p.relative_to(a).as_posix(): p.read_bytes() for p in sorted(a.rglob("*")) if p.is_file()}
    files_b = {p.relative_to(b).as_posix(): p.read_bytes() for p in sorted(b.rglob("*")) if p.is_file()}
    files_c = {p.relative_to(c).as_posix(): p.read_bytes() for p in sorted(c.rglob("*")) if p.is_file()}
    assert len(files_a) == 2 * (12 + 4)
    assert files_a == files_b
    assert files_a["train/train_0000.jpg"] != files_c["train/train_0000.jpg"]

    dataset = discover_dataset(a)
    assert dataset.split_source == "folders" and (len(dataset.train), len(dataset.test)) == (12, 4)
    assert dataset.warnings == []
    assert set(dataset.class_names) == set(CLASSES)
    for record in dataset.train + dataset.test:
        assert (record.width, record.height) == (320, 240) and 1 <= len(record.boxes) <= 4
        for box in record.boxes:
            assert 0.15 * 240 - 1 <= box.xmax - box.xmin <= 0.5 * 240 + 1


def test_synthetic_defaults_preprocess(tmp_path):
    data = make_synthetic_dataset(tmp_path / "data")
    result = preprocess(data, tmp_path / "out", progress=False)
    assert (result.num_train, result.num_test) == (60, 15)
    assert result.names_to_ids == {"circle": 1, "square": 2, "triangle": 3}
    again = preprocess(data, tmp_path / "out2", progress=False)
    assert result.train_record.read_bytes() == again.train_record.read_bytes()
    assert result.test_record.read_bytes() == again.test_record.read_bytes()
    with pytest.raises(FileExistsError):
        (data / "train" / "stray.txt").write_text("x")
        make_synthetic_dataset(data)


# --------------------------------------------------------------------------- validation


def _write_jpeg(path: Path, size=(100, 80), exif=None) -> None:
    image = Image.new("RGB", size, (120, 60, 30))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(path, format="JPEG", quality=90, **kwargs)


def _write_xml(path: Path, filename, width, height, objects) -> None:
    path.write_bytes(voc_xml("x", filename, width, height, objects))


def test_boxes_clipped_skipped_and_images_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_jpeg(data / "a.jpg")
    _write_xml(data / "a.xml", "a.jpg", 100, 80, [
        ("cat", -10, 5, 50, 40),          # outside on the left: clipped
        (" dog ", 60, 20, 130.5, 90),     # outside right/bottom, float: clipped; name stripped
        ("cat", 120, 10, 150, 30),        # entirely outside: skipped
        ("dog", 30, 30, 30, 60),          # zero width: skipped
        ("cat", 10, 10, 20, 20),          # fine
    ])
    _write_jpeg(data / "b.JPG", size=(64, 48))
    _write_xml(data / "b.xml", "b.jpg", 640, 480, [("cat", 1, 1, 30, 30)])  # case + size mismatch
    _write_xml(data / "c.xml", "missing.jpg", 10, 10, [("cat", 1, 1, 5, 5)])  # no image
    _write_xml(data / "d.xml", "../../../etc/passwd", 10, 10, [("cat", 1, 1, 5, 5)])  # escapes: not found

    dataset = discover_dataset(data, test_fraction=0.0)
    assert dataset.split_source == "ratio" and dataset.test == []
    records = {r.filename: r for r in dataset.train}
    assert sorted(records) == ["a.jpg", "b.JPG"]
    a = records["a.jpg"]
    assert [tuple(b)[:5] for b in a.boxes] == [("cat", 0.0, 5.0, 50.0, 40.0), ("dog", 60.0, 20.0, 100.0, 80.0),
                                               ("cat", 10.0, 10.0, 20.0, 20.0)]
    assert (records["b.JPG"].width, records["b.JPG"].height) == (64, 48)  # the real size wins
    counts = dataset.counts
    # skipped: 2 boxes in a.xml + the boxes of the two skipped images (c.xml, d.xml)
    assert counts["boxes_clipped"] == 2 and counts["boxes_skipped"] == 4 and counts["boxes_kept"] == 4
    assert counts["boxes_in"] == 8 == counts["boxes_kept"] + counts["boxes_skipped"]
    assert counts["images_skipped"] == 2 and counts["size_mismatches"] == 1
    problems = Counter((w["file"], w["action"]) for w in dataset.warnings)
    assert problems[("a.xml", "box skipped")] == 2
    assert sum(1 for w in dataset.warnings if w["file"] == "a.xml" and w["action"].startswith("clipped")) == 2
    assert problems[("c.xml", "image skipped (1 boxes)")] == 1 and problems[("d.xml", "image skipped (1 boxes)")] == 1
    assert all(set(w) == {"code", "file", "problem", "action"} for w in dataset.warnings)

    result = preprocess(data, tmp_path / "out", test_fraction=0.0, progress=False)
    ex = next(e for e in read_examples(result.train_record) if e["filename"] == "a.jpg")
    np.testing.assert_allclose(ex["boxes"][1], [0.25, 0.6, 1.0, 1.0], atol=1e-6)  # ymin, xmin, ymax, xmax
    report = json.loads(result.report_path.read_text())
    assert report["num_warnings"] == len(report["warnings"]) == result.num_warnings
    assert report["counts"]["boxes_clipped"] == 2


def test_symlink_outside_data_dir_is_not_read(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_jpeg(tmp_path / "secret.jpg")
    (data / "s.jpg").symlink_to(tmp_path / "secret.jpg")
    _write_xml(data / "s.xml", "s.jpg", 100, 80, [("cat", 1, 1, 5, 5)])
    _write_jpeg(data / "ok.jpg")
    _write_xml(data / "ok.xml", "ok.jpg", 100, 80, [("cat", 1, 1, 5, 5)])
    dataset = discover_dataset(data, test_fraction=0.0)
    assert [r.filename for r in dataset.train] == ["ok.jpg"]
    assert any(w["file"] == "s.xml" for w in dataset.warnings)


DOCTYPE_XML = b"""<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<annotation><filename>&b;</filename><size><width>100</width><height>80</height><depth>3</depth></size>
<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
</annotation>
"""
EXTERNAL_XML = b"""<?xml version="1.0"?>
<!DOCTYPE annotation SYSTEM "file:///etc/passwd">
<annotation><filename>x.jpg</filename><size><width>100</width><height>80</height></size></annotation>
"""


def test_doctype_and_entities_are_rejected(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "evil.xml").write_bytes(DOCTYPE_XML)
    (data / "external.xml").write_bytes(EXTERNAL_XML)
    for name in ("evil.xml", "external.xml"):
        with pytest.raises(ValueError, match="DOCTYPE") as info:
            parse_voc_xml(data / name)
        assert name in str(info.value)
    # In a dataset the bad file is skipped and reported; the valid image is kept.
    _write_jpeg(data / "evil.jpg")
    _write_jpeg(data / "good.jpg")
    _write_xml(data / "good.xml", "good.jpg", 100, 80, [("cat", 1, 1, 50, 50)])
    dataset = discover_dataset(data, test_fraction=0.0)
    assert [r.filename for r in dataset.train] == ["good.jpg"]
    assert {(w["file"], w["code"]) for w in dataset.warnings} == {
        ("evil.xml", "annotation_unsafe"), ("external.xml", "annotation_unsafe"),
        ("evil.jpg", "annotation_missing")}  # its only annotation was rejected


@pytest.mark.parametrize(
    "body, problem",
    [
        (b"<annotation><filename>a.jpg</filename></annotation>", "missing <size>"),
        (b"<annotation><size><width>10</width></size></annotation>", "missing <height>"),
        (b"<annotation><size>", "malformed XML"),
        (b"<foo/>", "expected <annotation>"),
    ],
)
def test_voc_errors_name_file_and_problem(tmp_path, body, problem):
    path = tmp_path / "bad.xml"
    path.write_bytes(body)
    with pytest.raises(ValueError, match=problem) as info:
        parse_voc_xml(path)
    assert "bad.xml" in str(info.value)


def test_exif_orientation_rule(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    for xml_size, expected in (((80, 100), (80, 100, True)), ((100, 80), (100, 80, False))):
        data = tmp_path / f"data_{xml_size[0]}"
        data.mkdir()
        _write_jpeg(data / "r.jpg", size=(100, 80), exif=exif)
        _write_xml(data / "r.xml", "r.jpg", *xml_size, [("cat", 10, 10, 60, 60)])
        record = discover_dataset(data, test_fraction=0.0).train[0]
        assert (record.width, record.height, record.exif_transpose) == expected
        result = preprocess(data, tmp_path / f"out_{xml_size[0]}", test_fraction=0.0, progress=False)
        ex = next(read_examples(result.train_record))
        assert ex["image"].shape == (expected[1], expected[0], 3)


def test_grayscale_png_and_palette_become_rgb_jpeg(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    Image.new("L", (50, 40), 77).save(data / "g.png")
    Image.new("P", (50, 40), 3).save(data / "p.png")
    Image.new("RGBA", (50, 40), (10, 200, 30, 255)).save(data / "rgba.png")
    for stem in ("g", "p", "rgba"):
        _write_xml(data / f"{stem}.xml", f"{stem}.png", 50, 40, [("cat", 5, 5, 20, 20)])
    result = preprocess(data, tmp_path / "out", test_fraction=0.0, progress=False)
    examples = {e["filename"]: e for e in read_examples(result.train_record)}
    assert sorted(examples) == ["g.png", "p.png", "rgba.png"]
    for ex in examples.values():
        assert ex["image"].shape == (40, 50, 3)
    assert abs(int(examples["g.png"]["image"][20, 25, 0]) - 77) <= 2
    np.testing.assert_allclose(examples["rgba.png"]["image"][20, 25], [10, 200, 30], atol=4)
    encoded = Image.open(io.BytesIO(next(iter(_raw_encoded(result.train_record)))))
    assert (encoded.format, encoded.mode) == ("JPEG", "RGB")


def _raw_encoded(path):
    import tensorflow as tf

    for serialized in tf.data.TFRecordDataset(str(path)):
        example = tf.train.Example.FromString(serialized.numpy())
        yield example.features.feature["image/encoded"].bytes_list.value[0]

"""Every dataset defect of edgetpu_detector.data.issues on a generated corpus: exact outcome, message, and no valid box lost."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from collections import Counter
import os
import threading
import time

import numpy as np
import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.data.issues import POLICIES
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.tfrecord.reader import read_examples
from tests.data.defect_corpus import BILLION_LAUGHS, jpeg, make_defect_corpus, xml, xxe

EXPECTED = [
    ("annotation_unsafe", "bomb.xml", "XML with a DOCTYPE/DTD is rejected (entities are not allowed)", "skipped"),
    ("annotation_invalid", "broken.xml", "malformed XML: Premature end of data in tag size line 1, line 1, column 19 "
     "(<string>, line 1)", "skipped"),
    ("annotation_unsafe", "xxe.xml", "XML with a DOCTYPE/DTD is rejected (entities are not allowed)", "skipped"),
    ("box_clipped", "boxes.xml", "box 'cat' (-10, 5, 50, 90) extends outside the 100x80 image", "clipped to (0, 5, 50, 80)"),
    ("box_inverted", "boxes.xml", "box 'dog' (70, 60, 20, 10) has min > max", "corners swapped to (20, 10, 70, 60)"),
    ("box_empty", "boxes.xml", "box 'dog' (30, 30, 30, 60) has no area inside the 100x80 image", "box skipped"),
    ("box_empty", "boxes.xml", "box 'dog' (120, 10, 150, 30) has no area inside the 100x80 image", "box skipped"),
    ("converted_to_rgb", "cmyk.jpg", "image mode CMYK (JPEG)", "converted to 3-channel RGB JPEG"),
    ("image_unreadable", "corrupt.jpg", "image cannot be read: not a readable image: Truncated File Read",
     "image skipped (1 boxes)"),
    ("duplicate_image", "dup_b.xml", "image shared.jpg is already annotated by dup_a.xml", "image skipped (2 boxes)"),
    ("path_outside_dataset", "escape.xml", "file name '../secret.jpg' climbs out with '..'; never read",
     "image skipped (1 boxes)"),
    ("converted_to_rgb", "gray.jpg", "image mode L (JPEG)", "converted to 3-channel RGB JPEG"),
    ("image_too_large", "huge.png", "image is 12000x12000 = 144000000 pixels, above the limit of 100000000 pixels "
     "(decompression-bomb guard)", "image skipped (1 boxes)"),
    ("converted_to_rgb", "i16.png", "image mode I;16 (PNG)", "converted to 3-channel RGB JPEG"),
    ("converted_to_rgb", "la.png", "image mode LA (PNG)", "converted to 3-channel RGB JPEG"),
    ("label_variant", "labels.xml", "class 'Cat ' has surrounding whitespace", "renamed to 'Cat'"),
    ("label_empty", "labels.xml", "object without a class name: xmin='1', ymin='1', xmax='9', ymax='9'", "box skipped"),
    ("path_outside_dataset", "link.xml", "'link.jpg' links outside the dataset folder; never read",
     "image skipped (1 boxes)"),
    ("image_missing", "missing.xml", "image 'missing.jpg' not found in the dataset folder", "image skipped (1 boxes)"),
    ("unusual_name", "my cat#1=\u00fc.jpg", "file name has space, '#', '=', '\u00fc' (LATIN SMALL LETTER U WITH DIAERESIS)",
     "kept (names are stored as UTF-8 in the records)"),
    ("box_invalid", "nan.xml", "box 'cat' has a missing or non-numeric coordinate: xmin='nan', ymin='1', xmax='5', "
     "ymax='5'", "box skipped"),
    ("box_invalid", "nan.xml", "box 'cat' has a missing or non-numeric coordinate: xmin='1', ymin='x', xmax='5', "
     "ymax='5'", "box skipped"),
    ("box_invalid", "nan.xml", "box 'cat' has a missing or non-numeric coordinate: xmin='1', ymin='1', xmax='5', "
     "ymax=''", "box skipped"),
    ("converted_to_rgb", "p.png", "image mode P (PNG)", "converted to 3-channel RGB JPEG"),
    ("format_mismatch", "pngjpg.jpg", "file extension '.jpg' but PNG data", "re-encoded as JPEG"),
    ("polygon", "polygon.xml", "box 'dog' is a polygon: polygon (10,20) (40,15) (30,50)",
     "used its bounding box (10, 15, 40, 50)"),
    ("polygon", "polygon.xml", "box 'dog' is a polygon: polygon (5,6) (25,30)", "used its bounding box (5, 6, 25, 30)"),
    ("box_invalid", "polygon.xml", "box 'dog' has a missing or non-numeric coordinate: no <bndbox> or <polygon>",
     "box skipped"),
    ("filename_mismatch", "renamed.xml", "file name 'old_name.jpg' disagrees with the image 'renamed.jpg' found by "
     "the annotation's name", "used renamed.jpg"),
    ("converted_to_rgb", "rgba.png", "image mode RGBA (PNG)", "converted to 3-channel RGB JPEG"),
    ("exif_rotated", "rotated.jpg", "EXIF orientation 6; the annotation's size 80x100 is the rotated image's",
     "pixels rotated to the annotation's frame"),
    ("size_mismatch", "small.xml", "annotation size 640x480 differs from the image size 64x48",
     "used the image size; boxes kept as written and clipped to it"),
    ("exif_ignored", "stored.jpg", "EXIF orientation 6; the annotation's size 100x80 is the stored image's",
     "stored pixels kept, orientation tag dropped (re-encoded)"),
    ("label_variant", "labels.xml", "class 'Cat' differs from 'cat' only in case", "renamed to 'cat' (1 boxes)"),
    ("label_variant", "labels.xml", "class 'CAT' differs from 'cat' only in case", "renamed to 'cat' (1 boxes)"),
    ("no_objects", "empty.xml", "image empty.jpg has no objects", "kept as a negative (background) image"),
    ("annotation_missing", "broken.jpg", "image has no annotation", "not used"),
    ("annotation_missing", "orphan.jpg", "image has no annotation", "not used"),
    # found only when the pixels are decoded (the header is intact): reported by the writer
    ("image_unreadable", "truncated.jpg", "image cannot be decoded: image file is truncated (226 bytes not processed)", "image skipped (1 boxes)"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("defects")
    secret = root / "secret.jpg"
    jpeg(secret)
    boxes_in = make_defect_corpus(root / "data", secret)
    result = preprocess(root / "data", root / "out", test_fraction=0.0, progress=False, num_workers=1)
    return boxes_in, result


def test_every_defect_has_its_exact_outcome(corpus):
    _, result = corpus
    got = [(w["code"], w["file"], w["problem"], w["action"]) for w in result.warnings]
    assert sorted(got) == sorted(EXPECTED)
    assert {code for code, *_ in EXPECTED} <= set(POLICIES)


def test_no_valid_box_is_lost(corpus):
    boxes_in, result = corpus
    examples = list(read_examples(result.train_record))
    in_records = sum(len(e["classes"]) for e in examples)
    counts = result.counts
    assert boxes_in == 38 == counts["boxes_in"]
    assert in_records == counts["boxes_kept"] == 23
    assert counts["boxes_in"] == in_records + counts["boxes_skipped"]
    # every skipped box is in the report: per-box skips plus the boxes of each skipped image
    reported = sum(1 for w in result.warnings if w["action"] == "box skipped")
    reported += sum(int(w["action"].split("(")[1].split()[0]) for w in result.warnings if "boxes)" in w["action"]
                    and w["action"].startswith("image skipped"))
    assert reported == counts["boxes_skipped"] == 15
    assert (counts["images_kept"], counts["images_skipped"]) == (19, 10) == (len(examples), 10)


def test_fixed_images_and_boxes_in_the_records(corpus):
    _, result = corpus
    examples = {e["filename"]: e for e in read_examples(result.train_record)}
    assert "truncated.jpg" not in examples and "empty.jpg" in examples and len(examples["empty.jpg"]["classes"]) == 0
    for name in ("rgba.png", "la.png", "p.png", "cmyk.jpg", "i16.png", "gray.jpg", "pngjpg.jpg"):
        assert examples[name]["image"].shape == (80, 100, 3)
    assert abs(int(examples["i16.png"]["image"][40, 50, 0]) - 255) <= 2  # 16-bit scaled by its peak, not clipped
    assert examples["rotated.jpg"]["image"].shape == (100, 80, 3)  # rotated to the XML's frame
    assert examples["stored.jpg"]["image"].shape == (80, 100, 3)
    boxes = examples["boxes.jpg"]
    assert boxes["class_text"] == ["cat", "cat", "dog"]
    np.testing.assert_allclose(boxes["boxes"] * [80, 100, 80, 100], [[10.5, 10.25, 30, 40.75], [5, 0, 80, 50],
                                                                        [10, 20, 60, 70]], atol=1e-4)
    np.testing.assert_allclose(examples["polygon.jpg"]["boxes"] * [80, 100, 80, 100], [[15, 10, 50, 40], [6, 5, 30, 25]],
                               atol=1e-4)
    assert examples["labels.jpg"]["class_text"] == ["cat", "cat"]
    np.testing.assert_allclose(examples["small.jpg"]["boxes"][0] * [48, 64, 48, 64], [1, 1, 30, 30], atol=1e-4)
    assert result.names_to_ids == {"cat": 1, "dog": 2}


def test_console_summary_and_report_files(corpus):
    _, result = corpus
    lines = result.console.splitlines()
    assert lines[0] == "voc dataset: 19 images kept, 10 skipped; boxes in 38 = kept 23 + skipped 15 (1 clipped)"
    assert "  skip box_invalid x4: nan.xml: box 'cat' has a missing or non-numeric coordinate: xmin='nan', ymin='1', " \
           "xmax='5', ymax='5' -> box skipped; nan.xml: box 'cat' has a missing or non-numeric coordinate: xmin='1', " \
           "ymin='x', xmax='5', ymax='5' -> box skipped (+2 more)" in lines
    rows = result.report_csv_path.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "code,policy,file,problem,action" and len(rows) == 1 + len(EXPECTED)
    import json

    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    assert report["issues_by_code"]["box_invalid"] == {"policy": "skip", "count": 4,
                                                       "meaning": POLICIES["box_invalid"][1]}
    assert report["counts"]["boxes_in"] == 38
    names = {p.name for p in result.dataset_report_paths}
    assert names == {"dataset_report.json", "box_sizes.png", "aspect_ratios.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in result.dataset_report_paths if p.suffix == ".png")
    stats = json.loads((result.output_dir / "dataset_report.json").read_text())
    assert stats["splits"]["train"]["boxes_per_class"] == {"cat": 19, "dog": 4}


def test_label_not_in_a_given_map_is_skipped_and_case_follows_the_map(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    jpeg(data / "a.jpg")
    xml(data / "a.xml", "a.jpg", [("Raccoon ", 5, 5, 30, 30), ("raccoon", 40, 40, 60, 60), ("dog", 1, 1, 9, 9)])
    label_map = tmp_path / "lm.pbtxt"
    label_map.write_text("item { id: 1 name: 'raccoon' }\nitem { id: 2 name: 'cat' display_name: 'Cat' }\n")
    result = preprocess(data, tmp_path / "out", test_fraction=0.0, label_map_path=label_map, progress=False,
                        num_workers=1)
    got = sorted((w["code"], w["file"], w["problem"], w["action"]) for w in result.warnings)
    assert got == sorted([
        ("label_variant", "a.xml", "class 'Raccoon ' has surrounding whitespace", "renamed to 'Raccoon'"),
        ("label_variant", "a.xml", "class 'Raccoon' differs from 'raccoon' only in case", "renamed to 'raccoon' (1 boxes)"),
        ("label_not_in_map", "a.xml", "class 'dog' is not in the label map", "box skipped (1 boxes)"),
        ("class_unused", str(label_map), "class 'cat' has no boxes in the data", "kept in the label map"),
    ])
    assert result.names_to_ids == {"raccoon": 1, "cat": 2}
    example = next(read_examples(result.train_record))
    assert example["class_text"] == ["raccoon", "raccoon"] and list(example["classes"]) == [1, 1]
    assert result.counts["boxes_in"] == 3 == 2 + result.counts["boxes_skipped"]


def test_entity_bomb_is_rejected_fast(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_bytes(BILLION_LAUGHS.replace(b"lol9", b"lol9"))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="DOCTYPE") as info:
        parse_voc_xml(path)
    # Refused before parsing: expanding it would build 3 GB of text (minutes). The bound is far above the
    # milliseconds a refusal takes, so that a loaded machine cannot fail it (it was 0.5 s).
    assert time.perf_counter() - start < 10 and "bomb.xml" in str(info.value)


def test_external_entity_never_opens_the_target(tmp_path):
    """The XXE target is a FIFO: opening it for reading would let a writer connect; none may."""
    fifo = tmp_path / "target.fifo"
    os.mkfifo(fifo)
    data = tmp_path / "data"
    data.mkdir()
    (data / "xxe.xml").write_bytes(xxe(fifo))
    (data / "dtd.xml").write_text(f'<?xml version="1.0"?>\n<!DOCTYPE annotation SYSTEM "file://{fifo}">\n'
                                  '<annotation><filename>ok.jpg</filename></annotation>\n')
    jpeg(data / "ok.jpg")
    xml(data / "ok.xml", "ok.jpg", [("cat", 1, 1, 20, 20)])
    opened = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while a reader has it open
            except OSError:
                time.sleep(0.001)
                continue
            opened.append(True)
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        dataset = discover_dataset(data, test_fraction=0.0)
    finally:
        stop.set()
        watcher.join(2)
    assert opened == []
    assert [r.filename for r in dataset.train] == ["ok.jpg"]
    assert Counter(w["code"] for w in dataset.warnings) == {"annotation_unsafe": 2}


def test_pixel_limit_is_a_parameter(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    jpeg(data / "a.jpg", size=(100, 80))
    xml(data / "a.xml", "a.jpg", [("cat", 1, 1, 20, 20)])
    jpeg(data / "b.jpg", size=(50, 40))
    xml(data / "b.xml", "b.jpg", [("cat", 1, 1, 20, 20)], size=(50, 40))
    dataset = discover_dataset(data, test_fraction=0.0, max_pixels=5000)
    assert [r.filename for r in dataset.train] == ["b.jpg"]
    assert [(w["code"], w["problem"]) for w in dataset.warnings] == [
        ("image_too_large", "image is 100x80 = 8000 pixels, above the limit of 5000 pixels (decompression-bomb guard)")]

"""Pre-labels for LabelImg and the labelling ranking: ``predict(..., prelabel_format=...)`` on real photos, read
back with LabelImg's own readers and with our preprocess; the ranking rule on hand-computed cases."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import csv

import numpy as np
import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.label_map import write_labels_txt
from edgetpu_detector.export.tflite_converter import convert_float_tflite
from edgetpu_detector.inference.load import load_detector
from edgetpu_detector.inference.media import iter_frames
from edgetpu_detector.inference.predict import predict
from edgetpu_detector.inference.ranking import labelling_priority, rank_images
from edgetpu_detector.ssd.postprocess import NMSConfig
from tests.detector_helpers import random_detector
from tests.labelimg_tools import read_labelimg

NAMES = {"raccoon": 1, "dog": 2}
IMAGES = ("raccoon-1.jpg", "raccoon-12.jpg", "raccoon-161.jpg")  # raccoon-161 is a grayscale JPEG


@pytest.fixture(scope="module")
def setup(shared_dir, tmp_path_factory):
    """A seeded random float TFLite detector (labels.txt beside it), 3 raccoon photos, every detection of each."""
    root = tmp_path_factory.mktemp("prelabel")
    model, config = random_detector(64, 2)
    path = convert_float_tflite(model, config, root / "model.tflite", NMSConfig(max_detections=8,
                                max_detections_per_class=8, use_regular_nms=True))
    write_labels_txt(NAMES, root / "labels.txt")
    photos = root / "photos"
    photos.mkdir()
    for name in IMAGES:
        (photos / name).write_bytes((shared_dir / "datasets/raccoon/images" / name).read_bytes())
    detector = load_detector(path)
    detections = {f.source: (f.image.shape, detector.detect(f.image)) for f in iter_frames(photos)}
    threshold = float(np.median(np.concatenate([d.scores for _, d in detections.values()])))
    return path, photos, detections, round(threshold, 4)


def _expected_boxes(shape, detections, threshold):
    """(class, xmin, ymin, xmax, ymax) in whole pixels, clipped: what the pre-label of each detection must be."""
    height, width = shape[:2]
    ids_to_names = {i: n for n, i in NAMES.items()}
    out = []
    for (ymin, xmin, ymax, xmax), cls in zip(detections.above(threshold).boxes, detections.above(threshold).classes):
        x0, x1 = (int(np.clip(round(float(v) * width), 0, width)) for v in (xmin, xmax))
        y0, y1 = (int(np.clip(round(float(v) * height), 0, height)) for v in (ymin, ymax))
        if x1 > x0 and y1 > y0:
            out.append((ids_to_names[int(cls)], x0, y0, x1, y1))
    return out


@pytest.mark.parametrize("fmt", ["voc", "yolo", "createml"])
def test_prelabels_open_in_labelimg_and_feed_back(setup, tmp_path, fmt):
    model, photos, detections, threshold = setup
    result = predict(model, photos, tmp_path, score_threshold=threshold, progress=False, prelabel_format=fmt)
    folder = tmp_path / "prelabels"
    assert result.prelabel_dir == folder and (tmp_path / "detections.csv").is_file()  # the usual outputs stay
    expected = {name: _expected_boxes(shape, d, threshold) for name, (shape, d) in detections.items()}
    assert 0 < result.num_prelabels == sum(len(v) for v in expected.values()) < sum(len(d) for _, d in detections.values())
    assert result.metrics()["predict/prelabels"] == result.num_prelabels
    suffix = {"voc": ".xml", "yolo": ".txt", "createml": ".json"}[fmt]
    for name, boxes in expected.items():
        assert (folder / name).read_bytes() == (photos / name).read_bytes()  # the photo, byte for byte
        height, width = detections[name][0][:2]
        shapes = read_labelimg(fmt, folder / name.replace(".jpg", suffix), folder / name, width, height)
        got = [(label, *points[0], *points[2]) for label, points, *_ in shapes]
        tolerance = 1 if fmt == "yolo" else 0  # LabelImg's YOLO reader rounds 6-decimal fractions to pixels
        assert [g[0] for g in got] == [b[0] for b in boxes]
        np.testing.assert_allclose([g[1:] for g in got], [b[1:] for b in boxes], atol=tolerance)
    if fmt == "yolo":
        assert (folder / "classes.txt").read_text() == "raccoon\ndog\n"
    # the user corrects them in LabelImg, then the folder goes back to the pipeline: same boxes
    dataset = discover_dataset(folder, test_fraction=0.0)
    assert dataset.format == fmt
    back = {r.filename: [(b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in r.boxes] for r in dataset.train}
    for name, boxes in expected.items():
        np.testing.assert_allclose([b[1:] for b in back[name]], [b[1:] for b in boxes],
                                   atol=1e-3 if fmt == "yolo" else 0)
    ranking = list(csv.DictReader(result.ranking_path.open()))
    assert [r["rank"] for r in ranking] == ["1", "2", "3"] and {r["image"] for r in ranking} == set(IMAGES)
    priorities = {name: labelling_priority(d.scores, threshold) for name, (_, d) in detections.items()}
    assert [float(r["priority"]) for r in ranking] == pytest.approx(sorted(priorities.values(), reverse=True), abs=1e-4)
    assert all(r["annotation"] == r["image"].replace(".jpg", suffix) for r in ranking)


def test_labelling_priority_by_hand():
    """t = 0.3: u_best = 1 - max s; u_i = 1 - (s - t) / 0.7 above t, 1 - (t - s) / 0.3 below."""
    t = 0.3
    assert labelling_priority([], t) == 1.0  # nothing found: label it
    assert labelling_priority([0.95], t) == pytest.approx(1 - 0.65 / 0.7)  # one sure box: 0.0714
    assert labelling_priority([0.3], t) == pytest.approx(1.0)  # a box on the threshold
    assert labelling_priority([0.9, 0.32], t) == pytest.approx(1 - 0.02 / 0.7)  # one near the threshold
    assert labelling_priority([0.1], t) == pytest.approx(0.9)  # weak best score: u_best wins over 1 - 0.2/0.3
    assert labelling_priority([0.02, 0.99], t) == pytest.approx(1 - 0.28 / 0.3)  # sure box, sure background
    ranked = rank_images([("b.jpg", "b.xml", [0.95]), ("a.jpg", "a.xml", []), ("c.jpg", "c.xml", [0.9, 0.32])], t)
    assert [r.image for r in ranked] == ["a.jpg", "c.jpg", "b.jpg"]
    assert (ranked[1].prelabels, ranked[1].candidates, ranked[1].best_score) == (2, 2, 0.9)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        labelling_priority([0.5], 0.0)
    with pytest.raises(ValueError, match="prelabel_format must be one of none, voc, yolo, createml"):
        predict("unused.tflite", ".", "/nonexistent", prelabel_format="labelme")

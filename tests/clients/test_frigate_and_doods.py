"""Frigate's and DOODS2's TFLite detectors read our int8 model. Their code is not installable here (Frigate is
a container; DOODS2 likewise), so small readers follow their published source behaviour, as said in each."""
import edgetpu_detector.core.env  # noqa: F401

import numpy as np
import yaml

from edgetpu_detector.core.class_ids import class_index
from edgetpu_detector.export.frigate import CONFIG_FILE, FRIGATE_DIR, LABELMAP_FILE
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.tflite.info import tflite_io


def frigate_detect_raw(detector, image):
    """Frigate's ``edgetpu_tfl.EdgeTpuTfl.detect_raw`` / ``cpu_tfl``: outputs by position (boxes, classes,
    scores, count), at most 20 rows, stop at the first score below 0.4; rows ``[class, score, ymin, xmin, ymax,
    xmax]`` in a zeroed [20, 6] array."""
    out = detector.outputs(image)
    detections = np.zeros((20, 6), np.float32)
    for i in range(out["count"]):
        if out["scores"][i] < 0.4 or i == 20:
            break
        detections[i] = [out["classes"][i], out["scores"][i], *out["boxes"][i]]
    return detections


def frigate_load_labels(path, prefill=91):
    """Frigate's ``util.builtin.load_labels``: ``<index> <name>`` lines (or one name per line), unknown ids
    prefilled with "unknown"."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    labels = {index: "unknown" for index in range(prefill)}
    if lines[0].split(" ", maxsplit=1)[0].isdigit():
        labels.update({int(index): label.strip() for index, label in (line.split(" ", maxsplit=1) for line in lines)})
    else:
        labels.update({index: line.strip() for index, line in enumerate(lines)})
    return labels


def doods_detect(detector, image, threshold):
    """DOODS2's tflite detector: walks every one of the N output slots (it ignores ``count``) and keeps those
    scoring at least its threshold."""
    out = detector.outputs(image)
    return [(int(out["classes"][i]), float(out["scores"][i]), tuple(out["boxes"][i]))
            for i in range(len(out["scores"])) if out["scores"][i] >= threshold]


def test_frigate_reads_our_detections_and_labels(exported):
    result = exported["result"]
    detector = TFLiteDetector(result.int8_tflite_path)
    labels = frigate_load_labels(result.output_dir / FRIGATE_DIR / LABELMAP_FILE)
    for image in exported["images"]:
        rows = frigate_detect_raw(detector, image)
        expected = detector.detect(image, clip_boxes=False).above(0.4, 20)
        assert np.count_nonzero(rows[:, 1]) == len(expected)
        for row, box, label_id, score in zip(rows, expected.boxes, expected.classes, expected.scores):
            assert int(row[0]) == class_index(label_id) and labels[int(row[0])] == exported["labels"][int(row[0])]
            np.testing.assert_allclose(row[1:], [score, *box], atol=1e-6)


def test_frigate_config_matches_the_model(exported):
    result = exported["result"]
    config = yaml.safe_load((result.output_dir / FRIGATE_DIR / CONFIG_FILE).read_text())
    (inputs,), _ = tflite_io(result.int8_tflite_path)
    assert inputs["dtype"] == "uint8" and inputs["shape"] == (1, config["model"]["height"], config["model"]["width"], 3)
    assert config["model"]["input_tensor"] == "nhwc" and config["model"]["input_pixel_format"] == "rgb"
    assert config["model"]["labelmap_path"].endswith(f"/{LABELMAP_FILE}")
    assert config["model"]["path"].endswith("/model_int8_edgetpu.tflite")
    assert config["objects"]["track"] == exported["labels"]
    assert {f["min_score"] for f in config["objects"]["filters"].values()} == {result.deployment.score_threshold}


def test_doods_walks_every_slot(exported):
    detector = TFLiteDetector(exported["result"].int8_tflite_path)
    for image in exported["images"]:
        everything = doods_detect(detector, image, 0.0)
        assert len(everything) == exported["slots"]  # every slot is a real detection
        assert all(0 <= c < len(exported["labels"]) and 0.0 <= s <= 1.0 and np.all(np.isfinite(b))
                   for c, s, b in everything)
        kept = doods_detect(detector, image, 0.3)
        ours = detector.detect(image, clip_boxes=False).above(0.3)
        assert [(class_index(c), s) for c, s in zip(ours.classes.tolist(), ours.scores.tolist())] == \
            [(c, s) for c, s, _ in kept]

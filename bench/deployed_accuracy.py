"""Accuracy of the model as deployed, per dataset and post-processing, and its CPU latency (long: not a test).

For each dataset (``--datasets``, from ``../shared/datasets``): preprocess (the dataset's own split), train the
default detector once (``--num-steps``, ``--image-size``, pretrained start), then export it with each
post-processing variant through the convert step's own code and evaluate the exported files through the
evaluate step's own code (same test split, same pixels):

* ``before``: what earlier versions shipped: the op's fast class-agnostic NMS, its score threshold 0.3,
  10 slots (its empty slots hold garbage; our runner reads ``count`` rows only);
* ``regular``: per-class NMS, threshold 0, N = ``max_detections=auto`` -- the default now;
* ``fast``: fast NMS, one class per box, threshold 0, N = auto;
* ``fast_k3``: fast NMS with ``max_classes_per_detection=3`` (datasets with >= 3 classes).

Reported per variant: mAP@[.5:.95] and AP50 of the int8 and float TFLite models (and, for ``regular``, the
SavedModel), the Keras model's per-class mAP for reference, int8 / Keras, and the int8 models' median latency
on one CPU thread (``--runs`` invocations each, the variants timed in turn on a real test image). Writes JSON
with ``--out``.

Usage: python -m bench.deployed_accuracy [--datasets raccoon,playing_cards,fruit_nuts] [--num-steps 300]
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import argparse
import json
import os
from pathlib import Path
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.evaluation.dataset import evaluation_dataset
from edgetpu_detector.evaluation.evaluate import evaluate_detector
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.export.deployment import Deployment, resolve_max_detections
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DATA_DIRS = {"raccoon": "raccoon", "playing_cards": "playing_cards", "fruit_nuts": "fruit_nuts/data"}


def variants(slots, num_classes):
    """``{name: NMSConfig}`` of the post-processing variants (see the module docstring)."""
    out = {"before": NMSConfig(nms_score_threshold=0.3, max_detections=10, use_regular_nms=False),
           "regular": NMSConfig(max_detections=slots),
           "fast": NMSConfig(max_detections=slots, use_regular_nms=False)}
    if num_classes >= 3:
        out["fast_k3"] = NMSConfig(max_detections=slots, use_regular_nms=False, max_classes_per_detection=3)
    return out


def latencies_ms(paths, image, runs, rounds=10):
    """``{name: median ms}`` of one ``invoke`` of each ``.tflite`` in ``paths`` (``{name: path}``) on one CPU
    thread, side by side: ``rounds`` rounds, each timing every model ``runs // rounds`` times in turn, so that a
    change in the machine's load falls on all of them alike. ``image``: uint8 [H, W, 3], a real test image
    (with the op's score threshold 0 the post-processing's work does not depend on it; with the old threshold
    it does)."""
    interpreters = {}
    for name, path in paths.items():
        interpreter = TFLiteDetector(path, num_threads=1).interpreter
        detail = interpreter.get_input_details()[0]
        pixels = tf.image.resize(image, detail["shape"][1:3]).numpy().round().clip(0, 255).astype(np.uint8)
        interpreter.set_tensor(detail["index"], pixels[np.newaxis])
        for _ in range(3):
            interpreter.invoke()
        interpreters[name] = interpreter
    times = {name: [] for name in paths}
    for _ in range(rounds):
        for name, interpreter in interpreters.items():
            for _ in range(max(1, runs // rounds)):
                started = time.perf_counter()
                interpreter.invoke()
                times[name].append(1000 * (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in times.items()}


def bench_dataset(name, root, args):
    data = preprocess(SHARED / DATA_DIRS[name], root / "data", progress=False)
    config = DetectorConfig(image_size=args.image_size, num_classes=data.num_classes)
    started = time.perf_counter()
    train(config, str(data.train_record), root / "model", TrainConfig(num_steps=args.num_steps, image_every=0),
          base_weights="auto", progress=False)
    slots = resolve_max_detections("auto", [data.train_record])
    report = {"train_images": data.num_train, "test_images": data.num_test, "classes": data.num_classes,
              "auto_max_detections": slots, "train_seconds": time.perf_counter() - started, "variants": {}}
    for variant, nms in variants(slots, data.num_classes).items():
        export = root / f"export_{variant}"
        convert_detector(root / "model", data.train_record, data.label_map_path, export,
                         deployment=Deployment(nms, score_threshold=0.3))
        forms = ("int8_tflite", "float_tflite", "saved_model", "keras") if variant == "regular" else \
            ("int8_tflite", "float_tflite")
        result = evaluate_detector(export, root / "model", data.test_record, data.label_map_path,
                                   root / f"eval_{variant}", forms=forms, progress=False)
        row = {form: {k: result.metrics[form][k] for k in ("mAP", "AP50")} for form in result.metrics}
        report["variants"][variant] = row
        print(name, variant, json.dumps(row), flush=True)
    image = next(iter(evaluation_dataset(str(data.test_record), args.image_size)))["original"].numpy()
    latency = latencies_ms({variant: root / f"export_{variant}" / "model_int8.tflite"
                            for variant in report["variants"]}, image, args.runs)
    for variant, ms in latency.items():
        report["variants"][variant]["int8_ms_1_thread"] = ms
    keras = report["variants"]["regular"]["keras"]
    for row in report["variants"].values():
        row["int8_over_keras_mAP"] = row["int8_tflite"]["mAP"] / max(keras["mAP"], 1e-9)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="raccoon,playing_cards,fruit_nuts")
    parser.add_argument("--num-steps", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=300)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    results = {"load_average_before": os.getloadavg(), "num_steps": args.num_steps, "image_size": args.image_size,
               "datasets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            results["datasets"][name] = bench_dataset(name, Path(tmp) / name, args)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=float))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


if __name__ == "__main__":
    main()

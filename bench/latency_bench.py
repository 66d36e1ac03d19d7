"""CPU latency of the exported detector forms, and int8 vs float AP50 (a long measurement: not a test).

Measures, on this machine's CPU:

* latency (median and 90th percentile of ``--runs`` invocations after 3 warm-up runs, one uint8 image already
  at the model's size) of the int8 and float TFLite models through ``ai_edge_litert`` with 1 and 2 threads,
  and of the SavedModel's ``serving_default`` (TensorFlow's own thread pool);
* the same for Coral's CPU reference classifier ``mobilenet_v2_1.0_224_quant.tflite`` (TOCO, uint8) from
  ``../shared/reference_models``, to compare machines (the issue's reference: a TOCO SSD-MobileNetV2
  300x300 uint8 detector at 14 ms on 1 thread, 8.6 ms on 2 threads);
* with ``--test-record``: COCO AP50 / mAP of the float and int8 TFLite models over that TFRecord
  (``edgetpu_detector.evaluation.coco_metrics``; score threshold from ``--score-threshold``).

Usage:
  python -m bench.latency_bench [--model-dir RETRAIN_MODEL_DIR --train-record R --test-record T
                                 --label-map L] [--runs 50] [--out results.json]

Without ``--model-dir`` it times an untrained default detector (SSDLite-MobileNetV2, 300x300, 3 classes):
latency does not depend on the weights. Other processes on the machine inflate the figures: quote the
load with them.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import argparse
import itertools
import json
import os
from pathlib import Path
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from edgetpu_detector.evaluation.coco_metrics import coco_metrics
from edgetpu_detector.export.saved_model import SERVING_INPUT, export_saved_model
from edgetpu_detector.export.tflite_converter import convert_float_tflite, convert_int8_tflite
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.data.label_map import read_label_map
from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tfrecord.reader import read_examples

REFERENCE = (Path(__file__).resolve().parents[2] / "shared" / "reference_models" / "coral_test_data"
             / "mobilenet_v2_1.0_224_quant.tflite")


def _time(fn, runs):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[int(0.9 * (len(times) - 1))], "runs": runs}


def tflite_latency(path, threads, runs):
    """Latency (ms) of one ``invoke`` of a ``.tflite`` model with ``threads`` CPU threads, input set once."""
    interpreter = TFLiteDetector(path, num_threads=threads).interpreter
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    if detail["dtype"] == np.uint8:
        pixels = rng.integers(0, 256, detail["shape"], dtype=np.uint8)
    else:
        pixels = rng.uniform(0, 255, detail["shape"]).astype(detail["dtype"])
    interpreter.set_tensor(detail["index"], pixels)
    return _time(interpreter.invoke, runs)


def saved_model_latency(path, size, runs):
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8))
    return _time(lambda: signature(**{SERVING_INPUT: image}), runs)


def tflite_ap(path, record, names_to_ids):
    """COCO metrics of a detection ``.tflite`` over a TFRecord (boxes normalized, classes label-map ids)."""
    detector = TFLiteDetector(path)
    images = []
    for example in read_examples(record):
        out = detector.detect(example["image"])
        images.append({"height": example["height"], "width": example["width"], "gt_boxes": example["boxes"],
                       "gt_classes": example["classes"], "det_boxes": out.boxes,
                       "det_classes": out.classes, "det_scores": out.scores})
    metrics, _ = coco_metrics(images, names_to_ids)
    return {"AP50": metrics["AP50"], "mAP": metrics["mAP"], "images": len(images)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", help="retrain output folder (detector.json + model.weights.h5)")
    parser.add_argument("--train-record", help="calibration images for the int8 model")
    parser.add_argument("--test-record", help="TFRecord for AP50 (needs --label-map)")
    parser.add_argument("--label-map")
    parser.add_argument("--num-calibration-images", type=int, default=100)
    parser.add_argument("--score-threshold", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)

    if args.model_dir:
        from edgetpu_detector.ssd.checkpoint import load_trained_detector
        model, config = load_trained_detector(args.model_dir)
    else:
        keras.utils.set_random_seed(0)
        config = DetectorConfig(num_classes=3)
        model = build_detector(config)
    size = int(config.image_size)
    if args.train_record:
        calibration = [e["image"] for e in itertools.islice(read_examples(args.train_record),
                                                            args.num_calibration_images)]
    else:
        rng = np.random.default_rng(0)
        calibration = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(8)]
    nms = NMSConfig(nms_score_threshold=args.score_threshold, max_detections=100, max_detections_per_class=100)
    results = {"model": config.model, "image_size": size, "alpha": config.alpha, "cpu_count": os.cpu_count(),
               "load_average": os.getloadavg(), "latency": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        forms = {"int8_tflite": convert_int8_tflite(model, config, calibration, tmp / "int8.tflite", nms),
                 "float_tflite": convert_float_tflite(model, config, tmp / "float.tflite", nms)}
        if REFERENCE.is_file():
            forms["coral_mobilenet_v2_224_uint8_reference"] = REFERENCE
        for name, path in forms.items():
            for threads in (1, 2):
                results["latency"][f"{name}/{threads}_thread"] = tflite_latency(path, threads, args.runs)
                print(name, threads, "thread(s):", results["latency"][f"{name}/{threads}_thread"], flush=True)
        saved = export_saved_model(model, config, tmp / "saved_model", nms)
        results["latency"]["saved_model/tf_default_threads"] = saved_model_latency(saved, size, args.runs)
        print("saved_model:", results["latency"]["saved_model/tf_default_threads"], flush=True)
        if args.test_record:
            names_to_ids = read_label_map(args.label_map)
            results["accuracy"] = {name: tflite_ap(forms[name], args.test_record, names_to_ids)
                                   for name in ("float_tflite", "int8_tflite")}
            results["accuracy"]["int8_AP50_drop_points"] = 100 * (results["accuracy"]["float_tflite"]["AP50"]
                                                                  - results["accuracy"]["int8_tflite"]["AP50"])
            print("accuracy:", results["accuracy"], flush=True)
    results["load_average_after"] = os.getloadavg()
    text = json.dumps(results, indent=2, default=float)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return results


if __name__ == "__main__":
    main()

"""Same accuracy, faster? Test mAP on raccoon of detectors trained with the reference settings and with the
project's defaults, two seeds each, with their training images/s (a long measurement: not a test).

    python -m bench.train_accuracy [--seeds 42,7] [--steps 300] [--configs reference,default] [--out results.json]

Data: ``../shared/datasets/raccoon`` with its own split (``data/train_labels.csv`` / ``test_labels.csv``: 160
training and 40 test images, read with ``format=csv``; ``format=auto`` would take the VOC files and split them by
``test_fraction`` instead). Model and training: the defaults of ``./run.sh`` (SSDLite-MobileNetV2 300x300,
``base_weights=auto``, batch 8, ``--steps`` steps). Each (configuration, seed) trains in a fresh process with the
configuration's environment (``bench.train_bench.CONFIGS``), then evaluates the Keras model and its int8 TFLite
model (calibrated on 100 training images, as the convert step does) on the 40 test images with
``edgetpu_detector.evaluation.evaluate.evaluate_detector``. Configurations alternate within each seed. The
spread between the two seeds of one configuration is the run-to-run noise to compare the configurations' gap with.
"""
import argparse
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

from bench.train_bench import CONFIGS

ROOT = Path(__file__).resolve().parents[1]
RACCOON = ROOT.parent / "shared" / "datasets" / "raccoon"


def _worker(spec):
    import edgetpu_detector.core.env  # noqa: F401
    from edgetpu_detector.data.label_map import read_label_map
    from edgetpu_detector.evaluation.evaluate import evaluate_detector
    from edgetpu_detector.ssd.models.ssd import DetectorConfig
    from edgetpu_detector.training.config import TrainConfig
    from edgetpu_detector.training.loop import train

    data, out = Path(spec["data"]), Path(spec["out"])
    rates = []
    detector = DetectorConfig(num_classes=len(read_label_map(data / "label_map.pbtxt")))
    config = TrainConfig(num_steps=spec["steps"], seed=spec["seed"], **spec["train"])
    result = train(detector, str(data / "train.record"), out / "model", config, base_weights="auto", progress=False,
                   on_metrics=lambda step, m: rates.append(m["train/images_per_second"]) if step > 10 else None)
    evaluation = evaluate_detector(out / "model", str(data / "test.record"), data / "label_map.pbtxt", out / "eval",
                                   forms=("keras", "int8_tflite"), train_record=str(data / "train.record"),
                                   progress=False)
    print("RESULT " + json.dumps({"train_seconds": result.seconds, "images_per_second": statistics.median(rates),
                                  "loss": result.final_metrics["train/loss"], "precision": result.precision,
                                  "keras_mAP": evaluation.metrics["keras"]["mAP"],
                                  "keras_AP50": evaluation.metrics["keras"]["AP50"],
                                  "int8_mAP": evaluation.metrics["int8_tflite"]["mAP"],
                                  "int8_AP50": evaluation.metrics["int8_tflite"]["AP50"]}), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="42,7")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--configs", default="reference,default")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(json.loads(args.worker))
    import edgetpu_detector.core.env  # noqa: F401
    from edgetpu_detector.data.preprocess import preprocess

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = preprocess(RACCOON, tmp / "data", seed=42, format="csv", progress=False)
        print(f"raccoon: {data.metrics()['data/train_images']} training, {data.metrics()['data/test_images']} test "
              f"images (split from {data.split_source})", flush=True)
        for seed in (int(s) for s in args.seeds.split(",")):
            for name in args.configs.split(","):
                spec = {"data": str(tmp / "data"), "out": str(tmp / f"{name}-{seed}"), "steps": args.steps,
                        "seed": seed, "train": CONFIGS[name]["train"]}
                env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | CONFIGS[name]["env"]
                load, started = os.getloadavg()[0], time.perf_counter()
                process = subprocess.run([sys.executable, "-m", "bench.train_accuracy", "--worker", json.dumps(spec)],
                                         cwd=ROOT, env=env, capture_output=True, text=True)
                lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
                if process.returncode or not lines:
                    raise RuntimeError(f"{name} seed {seed} failed: {process.stderr[-3000:]}")
                row = {"config": name, "seed": seed, **json.loads(lines[-1][len("RESULT "):]), "load_before": load,
                       "load_after": os.getloadavg()[0], "wall_seconds": time.perf_counter() - started}
                rows.append(row)
                print(f"{name} seed {seed}: keras mAP {row['keras_mAP']:.3f} AP50 {row['keras_AP50']:.3f}, int8 mAP "
                      f"{row['int8_mAP']:.3f} AP50 {row['int8_AP50']:.3f}; {row['images_per_second']:.1f} images/s, "
                      f"training {row['train_seconds']:.0f} s, load {load:.1f} -> {row['load_after']:.1f}", flush=True)
    print(f"\n{'configuration':<14}{'keras mAP (seeds)':>26}{'int8 mAP (seeds)':>26}{'images/s':>10}")
    for name in args.configs.split(","):
        mine = [r for r in rows if r["config"] == name]
        keras_map, int8_map = (" / ".join(f"{r[key]:.3f}" for r in mine) for key in ("keras_mAP", "int8_mAP"))
        print(f"{name:<14}{keras_map:>26}{int8_map:>26}"
              f"{statistics.median(r['images_per_second'] for r in mine):>10.1f}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

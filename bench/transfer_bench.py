"""Benchmark: does transfer learning transfer? AP50 and mAP@[.5:.95] on raccoon's own test split after a fixed
training-time budget, starting from a pretrained detector versus from random weights; training images/s.

    python bench/transfer_bench.py --budget-minutes 30 --out /tmp/transfer_bench

Data: ``../shared/datasets/raccoon`` (read in place): its ``data/train_labels.csv`` / ``test_labels.csv`` split
is staged as copies under ``--out`` (train/ and test/ folders of image + XML; outside the repository: the
preprocess step refuses symlinks that leave the dataset folder) and preprocessed there.
For each ``--inits`` value the number of steps is set so that training fills the budget, from the images/s
measured on a short warm-up run of that same initialization (so the cosine schedule ends at the budget); the
actual wall-clock and process CPU seconds are reported beside it. The machine may be shared: the 1-minute
load average before and after each run is recorded too. Results: ``--out``/results.json and a table on stdout.
"""
import argparse
import json
import os
import shutil
from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edgetpu_detector.core.env  # noqa: E402,F401
import pandas as pd  # noqa: E402

from edgetpu_detector.evaluation.coco_metrics import coco_metrics  # noqa: E402
from edgetpu_detector.evaluation.detect import detect_records  # noqa: E402
from edgetpu_detector.inference.keras_detector import KerasDetector  # noqa: E402
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.data.preprocess import preprocess  # noqa: E402
from edgetpu_detector.ssd.checkpoint import load_trained_detector  # noqa: E402
from edgetpu_detector.training.config import TrainConfig  # noqa: E402
from edgetpu_detector.training.loop import train  # noqa: E402

RACCOON = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "raccoon"


def stage_split(raccoon, folder):
    """Copy raccoon's images and XML into ``folder/{train,test}`` following its CSV split."""
    for split in ("train", "test"):
        names = sorted(set(pd.read_csv(raccoon / "data" / f"{split}_labels.csv")["filename"]))
        (folder / split).mkdir(parents=True, exist_ok=True)
        for name in names:
            stem = Path(name).stem
            for src, dst in ((raccoon / "images" / name, folder / split / name),
                             (raccoon / "annotations" / f"{stem}.xml", folder / split / f"{stem}.xml")):
                if not dst.exists():
                    shutil.copyfile(src, dst)
    return folder


def run_one(init, data, out, args, names_to_ids):
    detector = DetectorConfig(model=args.model, image_size=args.image_size, num_classes=len(names_to_ids))
    base = dict(batch_size=args.batch_size, learning_rate=args.learning_rate, log_every=10,
                checkpoint_every=10 ** 9, seed=args.seed, precise_bn_batches=16)
    # warm-up: measures this initialization's images/s (tracing excluded)
    rates = []
    train(detector, str(data.train_record), out / "warmup", TrainConfig(num_steps=args.warmup_steps,
                                                                       **{**base, "log_every": 5}),
          base_weights=init, progress=False,
          on_metrics=lambda step, m: rates.append(m["train/images_per_second"]) if step > 5 else None)
    images_per_second = sum(rates) / max(len(rates), 1)
    num_steps = max(int(args.budget_minutes * 60 * images_per_second / args.batch_size), 20)
    load_before = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(detector, str(data.train_record), out / "train", TrainConfig(
        num_steps=num_steps, warmup_steps=min(100, num_steps // 10), **base), base_weights=init, progress=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    model, config = load_trained_detector(out / "train")
    metrics, _ = coco_metrics(detect_records(KerasDetector(model, config), str(data.test_record),
                                             config.image_size, progress=False), names_to_ids)
    return {"base_weights": init, "num_steps": num_steps, "warmup_images_per_second": images_per_second,
            "train_images_per_second": num_steps * args.batch_size / wall, "train_wall_seconds": wall,
            "train_process_cpu_seconds": cpu, "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0], "batch_norm_frozen": result.fine_tuning.batch_norm_frozen,
            "AP50": metrics["AP50"], "mAP": metrics["mAP"], "AP75": metrics["AP75"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="training wall-clock per init")
    parser.add_argument("--inits", default="zoo:pedestrian_ssdlite_mobilenet_v2,none")
    parser.add_argument("--model", default="ssdlite_mobilenet_v2")
    parser.add_argument("--image-size", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--warmup-steps", type=int, default=25)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("/tmp/transfer_bench"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    staged = stage_split(RACCOON, args.out / "raccoon_split")
    data = preprocess(staged, args.out / "data", progress=False)
    from edgetpu_detector.data.label_map import read_label_map

    names_to_ids = read_label_map(args.out / "data" / "label_map.pbtxt")
    print(f"raccoon: {data.num_train} train / {data.num_test} test images", flush=True)
    results = []
    for init in args.inits.split(","):
        name = init.replace(":", "_").replace("/", "_")
        results.append(run_one(init, data, args.out / name, args, names_to_ids))
        print(json.dumps(results[-1]), flush=True)
        (args.out / "results.json").write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()},
                                                          "results": results}, indent=2))
    print(f"\n{'base_weights':40s} {'steps':>6s} {'img/s':>6s} {'wall s':>7s} {'AP50':>6s} {'mAP':>6s}")
    for r in results:
        print(f"{r['base_weights']:40s} {r['num_steps']:6d} {r['train_images_per_second']:6.2f} "
              f"{r['train_wall_seconds']:7.0f} {r['AP50']:6.3f} {r['mAP']:6.3f}")


if __name__ == "__main__":
    main()

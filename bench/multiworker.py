"""Two workers on 127.0.0.1 train one detector together with MultiWorkerMirroredStrategy (``strategy=multi_worker``).

    python bench/multiworker.py --steps 6 --out /tmp/multiworker

Starts two processes with the same ``TF_CONFIG`` cluster (two free ports on 127.0.0.1) and their own task index;
each runs ``edgetpu_detector.training.loop.train`` on ``../shared/datasets/fruit_nuts`` (tiny SSDLite, 96x96, global batch 4, so 2
per worker). Gradients are all-reduced every step, so both workers must end with identical weights: the script
compares them and prints the steps, seconds and the largest weight difference.
"""
import argparse
import json
import os
from pathlib import Path
import socket
import subprocess
import sys
import time

PROJECT = Path(__file__).resolve().parents[1]
FRUIT = PROJECT.parent / "shared" / "datasets" / "fruit_nuts" / "data"

_WORKER = """
import sys
import edgetpu_detector.core.env
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train
config = DetectorConfig(model="ssdlite_mobilenet_v2", image_size=96, alpha=0.35, num_classes=int(sys.argv[3]))
result = train(config, sys.argv[1], sys.argv[2], TrainConfig(num_steps=int(sys.argv[4]), batch_size=4, log_every=1,
               warmup_steps=2, precise_bn_batches=0, strategy="multi_worker"), progress=False,
               on_metrics=lambda step, m: print("step", step, "loss", round(m["train/loss"], 4), flush=True))
print("done", result.steps_run, round(result.seconds, 1), flush=True)
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--out", type=Path, default=Path("/tmp/multiworker"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT))
    import edgetpu_detector.core.env  # noqa: F401
    from edgetpu_detector.data.preprocess import preprocess

    data = preprocess(FRUIT, args.out / "data", progress=False)
    workers = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    processes = []
    started = time.perf_counter()
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": str(PROJECT), "CUDA_VISIBLE_DEVICES": "",
               "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(data.train_record), str(args.out / f"worker{index}"),
             str(data.num_classes), str(args.steps)], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=900)[0] for p in processes]
    seconds = time.perf_counter() - started
    for index, (process, output) in enumerate(zip(processes, outputs)):
        lines = [line for line in output.splitlines() if line.startswith(("step", "done"))]
        print(f"worker {index} (exit {process.returncode}):", *lines, sep="\n  ")
        if process.returncode:
            print(output[-3000:])
    if any(p.returncode for p in processes):
        sys.exit(1)
    import numpy as np
    from edgetpu_detector.ssd.checkpoint import load_trained_detector

    # worker 0 (the chief) writes model.weights.h5; worker 1 checkpoints into checkpoints-worker1/. Gradients are
    # all-reduced, so worker 1's final weights must equal the chief's.
    import tensorflow as tf
    from edgetpu_detector.ssd.models.ssd import build_detector

    chief, config = load_trained_detector(args.out / "worker0")
    other = build_detector(config)
    latest = tf.train.latest_checkpoint(str(args.out / "worker1" / "checkpoints-worker1"))
    tf.train.Checkpoint(model=other).restore(latest).expect_partial()
    # trainable weights only: batch-norm moving statistics are per worker (each sees its own half batch)
    def trainable(model):
        return [w.numpy() for w in model.trainable_weights]

    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(trainable(chief), trainable(other)))
    import keras
    keras.utils.set_random_seed(42)  # train() seeds 42 before building: the same initial weights
    fresh = build_detector(config)
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(trainable(chief), trainable(fresh)))
    print(f"2 workers, {args.steps} steps, {seconds:.0f} s wall in all; worker 1 vs worker 0 trainable weights: max |diff| "
          f"{diff:.2e} (vs a fresh model: {moved:.2e})")


if __name__ == "__main__":
    main()

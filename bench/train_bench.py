"""Training speed: steady-state images/s of the retrain step, the project's defaults beside a reference
configuration (the settings before issue 13: oneDNN off, float32), measured alternately in one run, with the
machine's peak for scale (a long measurement: not a test).

    python -m bench.train_bench [--steps 50] [--repeats 3] [--configs reference,default] [--out results.json]

What runs: ``edgetpu_detector.training.loop.train`` -- the retrain step's work, without MLflow -- on the default
data (the synthetic dataset ``./run.sh`` generates with seed 42, preprocessed once into a scratch folder), with
the default model (SSDLite-MobileNetV2 300x300, ``base_weights=auto``) and the MLproject defaults (batch 8,
augmentations, ``log_every`` 10). Each configuration trains ``--steps`` steps in a fresh process (oneDNN is
chosen at TensorFlow's start); images/s is counted from step 10 (warm-up and tracing excluded) to the last.
Configurations alternate (A, B, A, B, ...) so that a load change on a shared machine hits both; the table gives
the median and the range over ``--repeats`` and the load averages before and after.

Configurations (``--configs``, and your own as ``--config 'name={"env": {...}, "train": {TrainConfig fields}}'``;
``bench/gpu_check.sh`` uses these on a GPU):

* ``reference``: ``TF_ENABLE_ONEDNN_OPTS=0``, ``precision=float32`` (what run.sh set before);
* ``default``: the project's settings now (``precision=auto``, oneDNN as TensorFlow defaults it);
* ``bfloat16``: the defaults with ``precision=mixed_bfloat16``; ``jit``: with XLA (``jit_compile="true"``);
* ``threads1``: the defaults with one inter-op thread (``TF_NUM_INTEROP_THREADS=1``);
* ``stages0`` ... ``stages5``: the defaults with that many backbone stages training (``trainable_backbone_stages``;
  ``default`` trains 2 of the 5 from the pretrained start, ``stages5`` all, as before).

The peak: a square float32 (and bfloat16) matmul's GFLOP/s measured here, and the model's training cost per
image (3 x the forward convolutions' multiply-adds x 2, counted from the Keras layers), whose quotient is the
ceiling in images/s.
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

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "reference": {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}, "train": {"precision": "float32"}},
    "default": {"env": {}, "train": {}},
    "bfloat16": {"env": {}, "train": {"precision": "mixed_bfloat16"}},
    "jit": {"env": {}, "train": {"jit_compile": "true"}},
    "threads1": {"env": {"TF_NUM_INTEROP_THREADS": "1"}, "train": {}},
    **{f"stages{n}": {"env": {}, "train": {"trainable_backbone_stages": str(n)}} for n in range(6)},
}
WARMUP_STEPS = 10  # = log_every: the first measured window starts after it


def _worker(spec):
    """In a fresh process: train ``spec["steps"]`` steps, print one JSON line with the steady-state images/s."""
    import edgetpu_detector.core.env  # noqa: F401
    from edgetpu_detector.data.label_map import read_label_map
    from edgetpu_detector.ssd.models.ssd import DetectorConfig
    from edgetpu_detector.training.config import TrainConfig
    from edgetpu_detector.training.loop import train

    data = Path(spec["data"])
    stamps = {}
    detector = DetectorConfig(num_classes=len(read_label_map(data / "label_map.pbtxt")))
    config = TrainConfig(num_steps=spec["steps"], checkpoint_every=10 ** 6, **spec["train"])
    with tempfile.TemporaryDirectory() as out:
        result = train(detector, str(data / "train.record"), out, config, base_weights="auto", progress=False,
                       on_metrics=lambda step, m: stamps.__setitem__(step, (time.perf_counter(), m["train/loss"])))
    first, last = WARMUP_STEPS, max(stamps)
    rate = (last - first) * config.batch_size / (stamps[last][0] - stamps[first][0])
    print("RESULT " + json.dumps({"images_per_second": rate, "loss": stamps[last][1],
                                  "precision": result.precision, "seconds": result.seconds}), flush=True)


def _peak_worker():
    """GFLOP/s of a 2048 x 2048 matmul, float32 and bfloat16 (best of 5 batches of 10)."""
    import edgetpu_detector.core.env  # noqa: F401
    import tensorflow as tf

    n, out = 2048, {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal([n, n], dtype=tf.float32)
        a = tf.cast(a, dtype)
        matmul = tf.function(lambda x: tf.linalg.matmul(x, x))
        matmul(a).numpy()
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(10):
                result = matmul(a)
            result.numpy()
            best = min(best, (time.perf_counter() - start) / 10)
        out[dtype.name] = 2 * n ** 3 / best / 1e9
    print("RESULT " + json.dumps(out), flush=True)


def training_flops_per_image(image_size=300, model="ssdlite_mobilenet_v2", num_classes=3):
    """Training FLOPs per image: 2 x 3 x the multiply-adds of the forward convolutions (backward: about twice
    the forward, for the gradients of the activations and of the weights)."""
    import edgetpu_detector.core.env  # noqa: F401
    import keras

    from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector

    macs = 0
    model = build_detector(DetectorConfig(model=model, image_size=image_size, num_classes=num_classes))
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            h, w = layer.output.shape[1:3]
            kh, kw = layer.kernel_size
            channels_in = layer.input.shape[-1]
            per_output = kh * kw * (channels_in if not isinstance(layer, keras.layers.DepthwiseConv2D) else 1)
            macs += h * w * layer.output.shape[-1] * per_output
    return 6 * macs


def _run(args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | (env or {})
    process = subprocess.run([sys.executable, "-m", "bench.train_bench", *args], cwd=ROOT, env=environment,
                             capture_output=True, text=True)
    lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    if process.returncode or not lines:
        raise RuntimeError(f"worker failed ({process.returncode}): {process.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _default_data(folder):
    import edgetpu_detector.core.env  # noqa: F401
    from edgetpu_detector.data.preprocess import preprocess
    from edgetpu_detector.data.synthetic import make_synthetic_dataset

    preprocess(make_synthetic_dataset(folder / "synthetic", seed=42), folder / "data", seed=42, progress=False)
    return folder / "data"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="training steps per measurement (>= 20)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="reference,default", help="comma-separated names of CONFIGS")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=JSON",
                        help='your own, e.g. fp16={"env": {"CUDA_VISIBLE_DEVICES": "0"}, "train": '
                             '{"precision": "mixed_float16"}} (repeatable; after --configs)')
    parser.add_argument("--data", help="a preprocessed data/ folder (default: the synthetic default dataset)")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--peak", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(json.loads(args.worker))
    if args.peak:
        return _peak_worker()
    configs = {name: CONFIGS[name] for name in args.configs.split(",") if name}
    for item in args.config:
        name, _, spec = item.partition("=")
        configs[name] = json.loads(spec)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else _default_data(Path(tmp))
        load_before = os.getloadavg()
        peaks = [_run(["--peak"])]
        rates = {name: [] for name in configs}
        for repeat in range(args.repeats):
            for name, spec in configs.items():
                result = _run(["--worker", json.dumps({"data": str(data), "steps": args.steps,
                                                       "train": spec.get("train", {})})], spec.get("env"))
                rates[name].append(result["images_per_second"])
                print(f"repeat {repeat + 1} {name}: {result['images_per_second']:.1f} images/s "
                      f"({result['precision']}, loss {result['loss']:.3f}, load {os.getloadavg()[0]:.1f})",
                      flush=True)
        peaks.append(_run(["--peak"]))
        peak = {dtype: max(p[dtype] for p in peaks) for dtype in peaks[0]}  # the less disturbed of two
        load_after = os.getloadavg()
    flops = training_flops_per_image()
    reference = statistics.median(next(iter(rates.values())))
    print(f"\nload average (1, 5, 15 min) before {load_before}, after {load_after}; {os.cpu_count()} CPUs")
    print(f"peak: matmul {peak['float32']:.0f} GFLOP/s float32, {peak['bfloat16']:.0f} bfloat16; training "
          f"{flops / 1e9:.2f} GFLOP per image -> ceiling {peak['float32'] * 1e9 / flops:.1f} images/s float32")
    print(f"{'configuration':<14}{'median':>10}{'min':>8}{'max':>8}{'vs ' + next(iter(rates)):>16}{'of ceiling':>12}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:<14}{median:>10.1f}{min(values):>8.1f}{max(values):>8.1f}{median / reference:>15.2f}x"
              f"{median * flops / (peak['float32'] * 1e9):>12.0%}")
    if args.out:
        Path(args.out).write_text(json.dumps({"images_per_second": rates, "peak_gflops": peak,
                                              "training_flops_per_image": flops, "load_before": load_before,
                                              "load_after": load_after, "steps": args.steps}, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: how fast does the retrain step train there, and is the model it trains still
# Edge TPU-ready? Run from anywhere; about 10 minutes on one GPU.
#
#   bench/gpu_check.sh [steps per measurement, default 60] [repeats, default 2]
#
# 1. Installs TensorFlow's CUDA build into .venv as ./run.sh does (`./run.sh setup` with EDGETPU_DETECTOR_DEVICE=gpu).
# 2. bench.train_bench on the default data and model (SSDLite-MobileNetV2 300x300, base_weights=auto), configurations
#    alternating, steady-state images/s: the CPU (CUDA_VISIBLE_DEVICES=""), one GPU in float32 and in mixed_float16,
#    with and without XLA (jit_compile), at batch 8 (the default) and 64, and every GPU (strategy=mirrored, 64 per GPU).
# 3. Trains the default detector for 300 steps on one GPU (precision auto), converts it (export.convert) and prints
#    the Edge TPU compatibility verdict of its int8 model, which must be the CPU-trained one's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
steps="${1:-60}" repeats="${2:-2}"

nvidia-smi --query-gpu=index,name,compute_cap,memory.total,driver_version --format=csv
gpus="$(nvidia-smi -L | grep -c '^GPU ')"
EDGETPU_DETECTOR_DEVICE=gpu ./run.sh setup
python=.venv/bin/python
[ -x "$python" ] || python=python3  # run.sh found the pins in python3 itself
"$python" -c 'import tensorflow as tf; print("TensorFlow", tf.__version__, "GPUs:", tf.config.list_physical_devices("GPU"))'

# name=JSON: environment of the training process and TrainConfig fields (bench/train_bench.py)
one='"CUDA_VISIBLE_DEVICES": "0"'
configs=(--config 'cpu={"env": {"CUDA_VISIBLE_DEVICES": ""}, "train": {"precision": "float32"}}')
for batch in 8 64; do
  for variant in float32:false mixed_float16:false mixed_float16:true; do
    precision="${variant%:*}" xla="${variant#*:}"
    configs+=(--config "gpu_${precision}$([ "$xla" = true ] && echo _xla)_b$batch={\"env\": {$one}, \"train\":
      {\"precision\": \"$precision\", \"jit_compile\": \"$xla\", \"batch_size\": $batch}}")
  done
done
if [ "$gpus" -gt 1 ]; then  # precision and XLA: auto
  configs+=(--config "all_${gpus}_gpus_b$((64 * gpus))={\"env\": {}, \"train\": {\"strategy\": \"mirrored\",
    \"batch_size\": $((64 * gpus))}}")
fi
"$python" -m bench.train_bench --steps "$steps" --repeats "$repeats" --configs "" "${configs[@]}" \
  --out gpu_check_speed.json

CUDA_VISIBLE_DEVICES=0 "$python" - <<'PY'
import edgetpu_detector.core.env  # noqa: F401
from pathlib import Path
import tempfile

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.data.synthetic import make_synthetic_dataset
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.tflite.edgetpu_compat import VERDICT_BEFORE_POSTPROCESS
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train

with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    data = preprocess(make_synthetic_dataset(tmp / "synthetic", seed=42), tmp / "data", seed=42, progress=False)
    result = train(DetectorConfig(num_classes=data.num_classes), str(data.train_record), tmp / "model",
                   TrainConfig(), base_weights="auto", progress=False)
    print(f"GPU-trained: {result.summary()}, precision {result.precision}, devices {result.devices.tag()}")
    report = convert_detector(tmp / "model", data.train_record, data.label_map_path, tmp / "export").compatibility
    print(f"int8 model: {report.ops_mapped}/{report.ops_total} ops map to the Edge TPU; verdict: {report.verdict}")
    assert report.verdict == VERDICT_BEFORE_POSTPROCESS, "the GPU-trained detector is not Edge TPU-ready"
    print("gpu_check: the int8 model of the GPU-trained detector passes the Edge TPU compatibility check")
PY

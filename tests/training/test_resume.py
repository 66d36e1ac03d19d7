"""Training you can leave running: a training process killed with SIGKILL after a checkpoint resumes from it
with the same step counter and learning-rate schedule; validation with keep-best; a frozen backbone."""
import edgetpu_detector.core.env  # noqa: F401

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.ssd.models.ssd import DetectorConfig, backbone_of
from edgetpu_detector.training.config import TrainConfig, learning_rate_schedule
from edgetpu_detector.training.loop import train

PROJECT = Path(__file__).resolve().parents[2]
# tiny and fast: ~1 s per step on 2 shared cores
DETECTOR = dict(model="ssdlite_mobilenet_v2", image_size=96, alpha=0.35)
SETTINGS = dict(num_steps=14, batch_size=2, learning_rate=2e-3, warmup_steps=4, checkpoint_every=3,
                log_every=1, precise_bn_batches=0)

_CHILD = """
import sys
import edgetpu_detector.core.env
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train
config = DetectorConfig(num_classes=int(sys.argv[3]), **{d!r})
settings = dict({s!r}, num_steps=100000)
train(config, sys.argv[1], sys.argv[2], TrainConfig(**settings), progress=False,
      on_metrics=lambda step, m: print("step", step, flush=True))
"""


@pytest.fixture(scope="module")
def fruit_records(shared_dir, tmp_path_factory):
    return preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path_factory.mktemp("fruit"), progress=False)


def test_kill_9_then_resume_continues_the_step_counter_and_schedule(fruit_records, tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(d=DETECTOR, s=SETTINGS), str(fruit_records.train_record),
         str(tmp_path), str(fruit_records.num_classes)],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)})
    state = tmp_path / "checkpoints" / "checkpoint"
    deadline = time.monotonic() + 240
    try:
        while not (state.is_file() and "ckpt-6" in state.read_text()):
            assert child.poll() is None, child.stdout.read()
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    latest = int(state.read_text().split('"')[1].rsplit("-", 1)[1])
    assert latest >= 6

    config = TrainConfig(**SETTINGS)
    seen = {}
    result = train(DetectorConfig(num_classes=fruit_records.num_classes, **DETECTOR), str(fruit_records.train_record),
                   tmp_path, config, progress=False, on_metrics=lambda step, m: seen.__setitem__(step, m))
    assert sorted(seen) == list(range(latest + 1, 15))
    assert result.steps_run == 14 - latest
    schedule = learning_rate_schedule(config)
    for step, metrics in seen.items():  # the learning rate of an uninterrupted run at that step
        assert metrics["train/learning_rate"] == pytest.approx(float(schedule(step)), rel=1e-5)
    assert (tmp_path / "checkpoints" / "ckpt-14.index").is_file()
    assert (tmp_path / "model.weights.h5").is_file()


def test_frozen_backbone_then_validation_keeps_the_best(fruit_records, tmp_path):
    from edgetpu_detector.ssd.models.ssd import build_detector

    detector = DetectorConfig(num_classes=fruit_records.num_classes, **DETECTOR)
    keras.utils.set_random_seed(SETTINGS.get("seed", 42))  # as train() does before building
    reference = [w.numpy().copy() for w in backbone_of(build_detector(detector)).trainable_weights]
    seen = {}
    config = TrainConfig(**{**SETTINGS, "num_steps": 4, "freeze_backbone_steps": 4, "validation_every": 2,
                            "image_every": 2, "checkpoint_every": 100})
    result = train(detector, str(fruit_records.train_record), tmp_path, config, progress=False,
                   validation_records=str(fruit_records.test_record),
                   on_metrics=lambda step, m: seen.setdefault(step, {}).update(m))
    from edgetpu_detector.ssd.checkpoint import load_trained_detector

    model, _ = load_trained_detector(tmp_path)
    backbone = [w.numpy() for w in backbone_of(model).trainable_weights]
    # the backbone's weights did not move during the 4 frozen steps (same seed, same initialization)
    for before, after in zip(reference, backbone):
        np.testing.assert_array_equal(before, after)
    assert {"val/mAP", "val/AP50", "val/best_mAP"} <= set(seen[2]) and "val/mAP" in seen[4]
    assert result.best is not None and result.best["step"] in (2, 4)
    assert result.best["val/mAP"] == pytest.approx(max(seen[2]["val/mAP"], seen[4]["val/mAP"]))
    assert (tmp_path / "best.weights.h5").is_file()
    events = list((tmp_path / "tensorboard").iterdir())
    assert events and sum(f.stat().st_size for f in events) > 10_000  # scalars and the detection images

"""Training on real data: the loss falls, training resumes from checkpoints and is reproducible with one seed,
backbone weights load."""
import edgetpu_detector.core.env  # noqa: F401

import h5py
import numpy as np
import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.ssd.checkpoint import load_trained_detector
from edgetpu_detector.ssd.models.ssd import DetectorConfig, backbone_of
from edgetpu_detector.training.augment import AUGMENTATIONS
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.initialize import describe, initialize_detector
from edgetpu_detector.training.loop import train


@pytest.fixture(scope="module")
def fruit_records(shared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("fruit")
    return preprocess(shared_dir / "datasets/fruit_nuts/data", out, progress=False)


def test_loss_falls_on_fruit_nuts(fruit_records, tmp_path):
    config = DetectorConfig(image_size=128, num_classes=fruit_records.num_classes)
    seen = {}
    result = train(config, str(fruit_records.train_record), tmp_path,
                   TrainConfig(num_steps=40, batch_size=4, learning_rate=2e-3, warmup_steps=5, log_every=1,
                               checkpoint_every=100, augmentations=()),
                   on_metrics=lambda step, m: seen.__setitem__(step, m), progress=False)
    losses = [seen[s]["train/loss"] for s in sorted(seen)]
    assert len(losses) == 40 and result.steps_run == 40
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert {"train/classification_loss", "train/localization_loss", "train/learning_rate",
            "train/images_per_second"} <= set(seen[40])
    assert (tmp_path / "tensorboard").is_dir() and any((tmp_path / "tensorboard").iterdir())
    model, loaded = load_trained_detector(tmp_path)
    assert loaded == config
    assert len(model.outputs) == 2


def _weights(path):
    with h5py.File(path, "r") as f:
        arrays = []
        f.visititems(lambda name, item: arrays.append(item[()]) if isinstance(item, h5py.Dataset) else None)
    return arrays


class _Interrupted(Exception):
    pass


def _stop_at(step):
    def on_metrics(current, metrics):
        if current == step:
            raise _Interrupted
    return on_metrics


def test_training_resumes_bit_for_bit_and_with_a_new_budget(fruit_records, tmp_path):
    """Two runs with one seed, every augmentation on, end with bit-identical weights, also when the second is
    interrupted after its step-3 checkpoint and resumed: the resumed run reads the batches the uninterrupted one
    read from step 4 on. (Before the augmentation's draws were stateless, two 12-step runs differed by up to
    5e-3, and a resumed run replayed the first batches.) A finished run given a larger budget trains the steps
    it lacks."""
    config = DetectorConfig(image_size=96, alpha=0.35, num_classes=fruit_records.num_classes)
    quick = dict(batch_size=2, warmup_steps=2, checkpoint_every=3, log_every=1, image_every=0, precise_bn_batches=0,
                 augmentations=AUGMENTATIONS)
    records = str(fruit_records.train_record)
    first = train(config, records, tmp_path / "whole", TrainConfig(num_steps=6, **quick), progress=False)
    with pytest.raises(_Interrupted):
        train(config, records, tmp_path / "resumed", TrainConfig(num_steps=6, **quick), on_metrics=_stop_at(4),
              progress=False)
    steps = []
    resumed = train(config, records, tmp_path / "resumed", TrainConfig(num_steps=6, **quick),
                    on_metrics=lambda step, m: steps.append(step), progress=False)
    assert first.steps_run == 6 and resumed.steps_run == 3 and steps == [4, 5, 6]
    whole, again = (_weights(tmp_path / name / "model.weights.h5") for name in ("whole", "resumed"))
    assert len(whole) > 100 and len(whole) == len(again)
    assert all(np.array_equal(a, b) for a, b in zip(whole, again))

    steps.clear()
    longer = train(config, records, tmp_path / "whole", TrainConfig(num_steps=8, **quick),
                   on_metrics=lambda step, m: steps.append(step), progress=False)
    assert longer.steps_run == 2 and steps == [7, 8]
    assert (tmp_path / "whole" / "checkpoints" / "ckpt-8.index").is_file()


def test_backbone_weights_from_a_keras_h5_file(shared_dir):
    path = shared_dir / "weights/mobilenet_2_5_224_tf_no_top.h5"
    assert describe(str(path)) == "backbone_file"
    config = DetectorConfig(model="ssd_mobilenet_v1", alpha=0.25, image_size=128, num_classes=2)
    model, kind = initialize_detector(config, str(path))
    assert kind == "backbone_file"
    with h5py.File(path, "r") as f:
        expected = f["conv1"]["conv1"]["kernel:0"][()]
    loaded = backbone_of(model).get_layer("conv1").kernel.numpy()
    np.testing.assert_array_equal(loaded, expected)


def test_backbone_file_of_another_architecture_is_a_clear_error(shared_dir):
    path = shared_dir / "weights/mobilenet_2_5_224_tf_no_top.h5"
    with pytest.raises(ValueError, match="does not fit ssdlite_mobilenet_v2"):
        initialize_detector(DetectorConfig(image_size=96, num_classes=2), str(path))


def test_missing_weights_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such.h5"):
        describe(str(tmp_path / "no_such.h5"))

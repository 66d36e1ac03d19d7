"""Frozen backbone stages: the stages are the backbone's resolution levels, frozen stages keep their weights
through training and leave the trainable variables (so the gradient tape skips them); a random start refuses
them."""
import edgetpu_detector.core.env  # noqa: F401

import numpy as np
import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.ssd.checkpoint import load_trained_detector
from edgetpu_detector.ssd.models.backbones import BACKBONES, backbone_stages
from edgetpu_detector.ssd.models.ssd import DetectorConfig, backbone_of, build_detector
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.fine_tuning import prepare_fine_tuning
from edgetpu_detector.training.loop import train


@pytest.mark.parametrize("model,backbone", [("ssdlite_mobilenet_v2", "mobilenet_v2"),
                                            ("ssd_mobilenet_v1", "mobilenet_v1")])
def test_stages_are_the_backbones_resolution_levels(model, backbone):
    detector = build_detector(DetectorConfig(model=model, num_classes=2))
    stages = backbone_stages(backbone_of(detector), 300)
    assert [stride for stride, _ in stages] == [2, 4, 8, 16, 32]
    names = {stride: [layer.name for layer in layers] for stride, layers in stages}
    tap16, tap32 = BACKBONES[backbone][1]
    assert tap16 in names[16] and tap32 in names[32]
    every = [name for layers in names.values() for name in layers]
    weighted = [layer.name for layer in backbone_of(detector).layers if layer.weights]
    assert sorted(set(every)) == sorted(every) and set(weighted) <= set(every)
    side = {stride: {layer.output.shape[1] for layer in layers if not layer.name.endswith("_pad")}
            for stride, layers in stages}
    assert side == {2: {150}, 4: {75}, 8: {38}, 16: {19}, 32: {10}}


@pytest.mark.parametrize("kind,setting,trainable", [("zoo", "all", 5), ("frozen_graph", "2", 2), ("imagenet", "1.0", 1),
                                                    ("zoo", "0", 0), ("zoo", "9", 5)])
def test_frozen_stages_leave_the_trainable_variables(kind, setting, trainable):
    detector = build_detector(DetectorConfig(num_classes=2))
    backbone = backbone_of(detector)
    before = {id(v) for v in detector.trainable_variables}
    tuning = prepare_fine_tuning(detector, 300, "false", setting, 0.9, kind)
    stages = backbone_stages(backbone, 300)
    assert tuning.trainable_stages == trainable and tuning.num_stages == 5
    assert tuning.frozen_strides == tuple(stride for stride, _ in stages[:5 - trainable])
    frozen = {id(v) for _, layers in stages[:5 - trainable] for layer in layers for v in layer.weights}
    trainable_ids = {id(v) for v in detector.trainable_variables}
    assert trainable_ids == before - frozen
    # the heads and the extra layers always train
    assert len(detector.trainable_variables) > len(backbone.trainable_variables)
    assert ("keep their weights" in tuning.line()) == (trainable < 5)
    assert tuning.tags()["train/trainable_backbone_stages"] == f"{trainable}/5"


def test_bad_setting_is_refused():
    with pytest.raises(ValueError, match=r"trainable_backbone_stages=2 would freeze 3 backbone stages at their random "
                                         r"initial weights \(base_weights none\)"):
        prepare_fine_tuning(build_detector(DetectorConfig(num_classes=2)), 300, "false", "2", 0.9, "none")
    with pytest.raises(ValueError, match="trainable_backbone_stages must be all or a whole number >= 0, got 'two'"):
        TrainConfig(trainable_backbone_stages="two")
    with pytest.raises(ValueError, match="got '-1'"):
        TrainConfig(trainable_backbone_stages="-1")


def test_frozen_stages_keep_their_weights_through_training(shared_dir, tmp_path):
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False)
    config = DetectorConfig(image_size=128, num_classes=data.num_classes)
    start = build_detector(config)
    start_weights = tmp_path / "start.weights.h5"
    start.save_weights(start_weights)
    result = train(config, str(data.train_record), tmp_path / "model",
                   TrainConfig(num_steps=6, batch_size=2, checkpoint_every=100, image_every=0, augmentations=(),
                               freeze_batch_norm="false", trainable_backbone_stages="2", learning_rate=0.01),
                   base_weights=str(start_weights), progress=False)
    assert result.fine_tuning.frozen_strides == (2, 4, 8)
    assert result.tags()["train/trainable_backbone_stages"] == "2/5"
    trained, _ = load_trained_detector(tmp_path / "model")
    stages = dict(backbone_stages(backbone_of(trained), 128))
    start_stages = dict(backbone_stages(backbone_of(start), 128))
    for stride in (2, 4, 8, 16, 32):
        changed = [not np.array_equal(a.numpy(), b.numpy())
                   for layer, start_layer in zip(stages[stride], start_stages[stride])
                   for a, b in zip(layer.weights, start_layer.weights)]
        assert any(changed) == (stride >= 16), stride


def test_resuming_with_other_trainable_stages_is_a_clear_error(shared_dir, tmp_path):
    """The optimizer's state is checkpointed by position: a run training other variables must not restore it."""
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False, num_workers=1)
    config = DetectorConfig(image_size=96, alpha=0.35, num_classes=data.num_classes)
    start = tmp_path / "start.weights.h5"
    build_detector(config).save_weights(start)
    settings = {"batch_size": 2, "image_every": 0, "checkpoint_every": 100, "precise_bn_batches": 0}
    train(config, str(data.train_record), tmp_path / "model", TrainConfig(num_steps=2, trainable_backbone_stages="2",
                                                                          **settings),
          base_weights=str(start), progress=False)
    with pytest.raises(ValueError, match=r"ckpt-2 was written by a run training \d+ variables, this one trains \d+: "
                                         r"trainable_backbone_stages, freeze_batch_norm"):
        train(config, str(data.train_record), tmp_path / "model", TrainConfig(num_steps=4, **settings),
              base_weights=str(start), progress=False)
    resumed = train(config, str(data.train_record), tmp_path / "model",
                    TrainConfig(num_steps=4, trainable_backbone_stages="2", **settings), base_weights=str(start),
                    progress=False)
    assert resumed.steps_run == 2

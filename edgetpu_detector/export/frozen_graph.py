"""TF1-style ``frozen_inference_graph.pb``: the serving function with its variables folded into constants.

Tensor names follow the TF1 Object Detection API's ``exporter.py`` so that TF1 tools (OpenCV's dnn module,
``tf.compat.v1`` scripts) find them:

* input ``image_tensor:0``: uint8 [1, ?, ?, 3] RGB, any size;
* outputs ``detection_boxes:0`` float32 [1, N, 4] ymin, xmin, ymax, xmax normalized, ``detection_scores:0``
  float32 [1, N], ``detection_classes:0`` float32 [1, N] label-map ids (1-based), ``num_detections:0``
  float32 [1], plus ``raw_detection_boxes:0`` [1, A, 4] and ``raw_detection_scores:0`` [1, A, C].

Freezing uses ``convert_variables_to_constants_v2`` (TF 2 ``convert_to_constants``).
"""
from pathlib import Path

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from edgetpu_detector.core.atomic import atomic_write_bytes
from edgetpu_detector.export.keras_module import module_for_model
from edgetpu_detector.export.saved_model import check_model_matches_config
from edgetpu_detector.export.serving_fn import DETECTION_KEYS, RAW_KEYS, detect_fn_for
from edgetpu_detector.ssd.postprocess import NMSConfig

FROZEN_GRAPH_FILENAME = "frozen_inference_graph.pb"
FROZEN_INPUT_TENSOR = "image_tensor:0"
FROZEN_OUTPUT_TENSORS = {key: f"{key}:0" for key in DETECTION_KEYS + RAW_KEYS}


def export_frozen_graph(model, config, output_dir, nms=NMSConfig(), filename=FROZEN_GRAPH_FILENAME):
    """Freeze the detector with its post-processing into a GraphDef file.

    Args:
      model: keras.Model from ``build_detector(config)``.
      config: ``DetectorConfig``.
      output_dir: folder to write into (created); the file is written atomically.
      nms: ``NMSConfig``.
      filename: file name, default ``frozen_inference_graph.pb``.

    Returns:
      ``Path`` of the written ``.pb`` (binary ``GraphDef``; tensor names in ``FROZEN_INPUT_TENSOR`` and
      ``FROZEN_OUTPUT_TENSORS``).

    Raises:
      ValueError: model and config disagree.
    """
    check_model_matches_config(model, config)
    module = module_for_model(model)
    detect = detect_fn_for(module, config, nms, input_name=FROZEN_INPUT_TENSOR.split(":")[0], output_names=True)
    frozen = convert_variables_to_constants_v2(detect.get_concrete_function())
    graph_def = frozen.graph.as_graph_def()
    names = {node.name for node in graph_def.node}
    missing = [t for t in [FROZEN_INPUT_TENSOR, *FROZEN_OUTPUT_TENSORS.values()] if t.split(":")[0] not in names]
    if missing:
        raise RuntimeError(f"frozen graph lacks the tensors {missing}")
    return atomic_write_bytes(Path(output_dir) / filename, graph_def.SerializeToString())


def load_frozen_graph(path):
    """Load a frozen GraphDef into a new ``tf.compat.v1`` graph and return a runner.

    Args:
      path: ``.pb`` file written by ``export_frozen_graph``.

    Returns:
      function ``run(image) -> dict`` taking uint8 [H, W, 3] or [1, H, W, 3] and returning numpy arrays
      keyed like ``FROZEN_OUTPUT_TENSORS`` (with the batch dimension). It runs in its own
      ``tf.compat.v1.Session``; call ``run.close()`` to release it.

    Raises:
      FileNotFoundError: no such file. ``google.protobuf.message.DecodeError``: not a GraphDef.
    """
    path = Path(path)
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    session = tf.compat.v1.Session(graph=graph)
    fetches = {key: graph.get_tensor_by_name(name) for key, name in FROZEN_OUTPUT_TENSORS.items()}
    image_tensor = graph.get_tensor_by_name(FROZEN_INPUT_TENSOR)

    def run(image):
        import numpy as np
        image = np.asarray(image)
        if image.ndim == 3:
            image = image[np.newaxis]
        return session.run(fetches, feed_dict={image_tensor: image})

    run.close = session.close
    return run

"""Import TF Object Detection API (TF1) SSD weights, from a frozen graph or a name-based checkpoint, into our
Keras detector.

The frozen graph of a TF1 export keeps every variable as a ``Const`` node of the same name (the exporter does
not fold batch norm), and a TF1 checkpoint keeps them under those names too, so both reduce to one
``{name: array}`` dict that ``import_tf1_weights`` assigns through ``edgetpu_detector.zoo.slim_names``.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from edgetpu_detector.zoo.slim_names import slim_variable_names


@dataclass
class ImportReport:
    """What an import assigned: number of arrays per part, and whether the class heads were kept."""

    source: str
    assigned: dict = field(default_factory=dict)
    class_heads_imported: bool = False
    reinitialized: list = field(default_factory=list)

    def summary(self):
        """One line, e.g. ``backbone 262, extra 40, box_head 42, class_head 12 (class heads re-initialized)``."""
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.assigned.items()))
        note = "class heads imported" if self.class_heads_imported else "class heads re-initialized"
        return f"{parts} ({note})"


def read_frozen_graph(path):
    """``{const node name: numpy array}`` of a TF1 ``frozen_inference_graph.pb``.

    Raises:
      ValueError: the file is not a serialized GraphDef (names the file).
    """
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(Path(path).read_bytes())
    except Exception as error:  # protobuf's DecodeError
        raise ValueError(f"{path} is not a TensorFlow frozen graph (GraphDef): {error}") from error
    return {node.name: tf.make_ndarray(node.attr["value"].tensor) for node in graph_def.node
            if node.op == "Const" and node.name.startswith(("FeatureExtractor/", "BoxPredictor"))}


def read_tf1_checkpoint(prefix):
    """``{variable name: numpy array}`` of a name-based (TF1) checkpoint such as the zoo's ``model.ckpt``.

    Raises:
      ValueError: not a readable checkpoint (names the prefix).
    """
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as error:
        raise ValueError(f"{prefix} is not a readable TensorFlow checkpoint: {error}") from error
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.startswith(("FeatureExtractor/", "BoxPredictor"))}


def is_tf1_detection_checkpoint(prefix):
    """True when the checkpoint at ``prefix`` holds TF OD API (TF1) variable names."""
    try:
        names = tf.train.load_checkpoint(str(prefix)).get_variable_to_shape_map()
    except Exception:
        return False
    return any(name.startswith("FeatureExtractor/") for name in names)


def import_tf1_weights(model, config, variables, source):
    """Assign TF OD API weights to a detector.

    The backbone, the extra layers and the box heads must all be present with matching shapes. Class heads
    are imported when their shape matches (same number of classes); otherwise the final class convolutions
    keep their fresh initialization (the SSDLite depthwise part before them is still imported).

    Args:
      model: keras.Model from ``edgetpu_detector.ssd.models.ssd.build_detector(config)``.
      config: ``edgetpu_detector.ssd.models.ssd.DetectorConfig``.
      variables: dict name -> numpy array, from ``read_frozen_graph`` or ``read_tf1_checkpoint``.
      source: str naming where the variables come from (for messages).

    Returns:
      ImportReport.

    Raises:
      ValueError: naming ``source`` and the variables, when names are missing or shapes differ (another
        architecture, width or input layout).
    """
    report = ImportReport(source=str(source))
    missing, mismatched, class_mismatch = [], [], []
    for variable, name, part in slim_variable_names(model, config):
        value = variables.get(name)
        if value is None:
            missing.append(name)
            continue
        if tuple(value.shape) != tuple(variable.shape):
            if part == "class_head" and not name.split("/")[1].endswith("_depthwise"):
                class_mismatch.append(name)
                continue
            mismatched.append(f"{name} {tuple(value.shape)} vs ours {tuple(variable.shape)}")
            continue
        variable.assign(np.asarray(value, dtype=np.float32))
        report.assigned[part] = report.assigned.get(part, 0) + 1
    if missing or mismatched:
        problems = (([f"{len(missing)} missing, e.g. {', '.join(missing[:3])}"] if missing else [])
                    + ([f"{len(mismatched)} of another shape, e.g. {'; '.join(mismatched[:3])}"]
                       if mismatched else []))
        raise ValueError(f"{source}: weights do not fit {config.model} (alpha={config.alpha}, "
                         f"{config.num_classes} classes): {'; '.join(problems)}")
    report.class_heads_imported = not class_mismatch
    report.reinitialized = class_mismatch
    return report

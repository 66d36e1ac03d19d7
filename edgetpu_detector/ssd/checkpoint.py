"""The files a trained detector is saved as, and loading it back.

A trained detector is a folder holding ``detector.json`` (its ``DetectorConfig``: architecture, input size,
classes, anchors, box coder) and ``model.weights.h5`` (Keras 3 weights). The retrain step logs that folder as
its ``model/`` artifact; every consumer (evaluation, export, serving) rebuilds the model from it.
"""
from pathlib import Path

from edgetpu_detector.core.atomic import atomic_path
from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector

CONFIG_FILE = "detector.json"
WEIGHTS_FILE = "model.weights.h5"
CHECKPOINT_DIR = "checkpoints"  # TF2 training checkpoints (tf.train.CheckpointManager) beside them


def save_weights(model, path):
    """Write ``model.save_weights`` to ``path`` (a ``.weights.h5`` file) atomically. Returns the Path."""
    with atomic_path(path) as tmp:
        model.save_weights(str(tmp))
    return Path(path)


def read_detector_config(model_dir):
    """The ``DetectorConfig`` of a saved detector (its ``detector.json``), without building the model.

    Raises:
      FileNotFoundError: naming the missing file.
    """
    path = Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: not a folder written by the retrain step")
    return DetectorConfig.from_json(path.read_text())


def load_trained_detector(model_dir):
    """Rebuild a detector saved by ``save_detector`` (the retrain step's ``model/`` folder).

    Args:
      model_dir: folder holding ``detector.json`` and ``model.weights.h5``.

    Returns:
      (keras.Model, DetectorConfig).

    Raises:
      FileNotFoundError: naming the missing file.
    """
    model_dir = Path(model_dir)
    config = read_detector_config(model_dir)
    if not (model_dir / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(f"{model_dir / WEIGHTS_FILE} is missing: not a folder written by the retrain step")
    model = build_detector(config)
    model.load_weights(str(model_dir / WEIGHTS_FILE))
    return model, config

"""Detector initialization from the ``base_weights`` parameter.

Forms understood (a later issue adds ``zoo:<name>``, TF Object Detection API model-zoo detectors, here):

* ``none``: random initialization;
* ``imagenet``: ``keras.applications`` ImageNet backbone weights (downloaded and cached by Keras);
* a path to a legacy Keras ``.h5`` backbone file of the same architecture and width (for example Keras's
  ``mobilenet_2_5_224_tf_no_top.h5`` for ``ssd_mobilenet_v1`` with ``alpha=0.25``);
* a path to a whole-detector ``.weights.h5`` written by this project's ``retrain`` step.
"""
from pathlib import Path

import h5py

from common.models import build_detector

NONE = "none"
IMAGENET = "imagenet"


def _is_keras3_weights_file(path):
    """True when ``path`` is a Keras 3 ``.weights.h5`` file (it has a top-level ``layers`` group)."""
    with h5py.File(path, "r") as f:
        return "layers" in f and "layer_names" not in f.attrs


def describe(base_weights):
    """Short, loggable kind of a ``base_weights`` value: ``none``, ``imagenet``, ``backbone_file``, ``detector_file``.

    Raises:
      FileNotFoundError: a path that does not exist.
      ValueError: a value that is neither a known keyword nor an ``.h5`` file.
    """
    value = (base_weights or NONE).strip()
    if value.lower() in (NONE, "random", ""):
        return NONE
    if value.lower() == IMAGENET:
        return IMAGENET
    path = Path(value).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"base_weights: no such file {path} (expected 'none', 'imagenet' or a path "
                                f"to a Keras .h5 / .weights.h5 file)")
    if path.suffix != ".h5":
        raise ValueError(f"base_weights: {path} is not a Keras .h5 weights file")
    return "detector_file" if _is_keras3_weights_file(path) else "backbone_file"


def initialize_detector(config, base_weights):
    """Build the detector of ``config`` initialized from ``base_weights``.

    Args:
      config: ``common.models.DetectorConfig``.
      base_weights: str, one of the forms in this module's docstring.

    Returns:
      (keras.Model, str kind as returned by ``describe``).

    Raises:
      FileNotFoundError, ValueError: from ``describe``; ValueError when a weights file does not fit the
      architecture (the message names the file).
    """
    kind = describe(base_weights)
    try:
        if kind == NONE:
            return build_detector(config), kind
        if kind == IMAGENET:
            return build_detector(config, backbone_weights=IMAGENET), kind
        path = str(Path(base_weights).expanduser())
        if kind == "backbone_file":
            return build_detector(config, backbone_weights=path), kind
        model = build_detector(config)
        model.load_weights(path)
        return model, kind
    except (ValueError, KeyError) as error:
        raise ValueError(f"base_weights {base_weights!r} does not fit {config.model} "
                         f"(alpha={config.alpha}, {config.num_classes} classes): {error}") from error

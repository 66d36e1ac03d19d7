"""Load any exported detector from a path: a SavedModel folder, a ``.tflite``, or an Edge TPU-compiled
``*_edgetpu.tflite``; and the class names that go with it."""
from pathlib import Path

from edgetpu_detector.data.label_map import LABELS_TXT, read_labels_txt
from edgetpu_detector.inference.tflite_detector import DEVICES, TFLiteDetector


def find_labels(model_path, labels_path=None):
    """``{label-map id: name}`` from ``labels_path``, else from the ``labels.txt`` beside (or inside) the model;
    empty when there is none (callers then show class ids)."""
    if labels_path:
        return read_labels_txt(labels_path)
    model_path = Path(model_path)
    for folder in (model_path if model_path.is_dir() else model_path.parent, model_path.parent):
        if (folder / LABELS_TXT).is_file():
            return read_labels_txt(folder / LABELS_TXT)
    return {}


def load_detector(model_path, device="auto", num_threads=None):
    """The ``Detector`` of a SavedModel folder or a ``.tflite`` file.

    Args:
      model_path: SavedModel folder, ``.tflite`` or ``*_edgetpu.tflite``.
      device: ``auto``, ``cpu`` or ``edgetpu`` (see ``edgetpu_detector.inference.tflite_detector``); a
        SavedModel runs on TensorFlow's devices.
      num_threads: CPU threads for TFLite, or None.

    Raises:
      FileNotFoundError: no such model. ValueError: not a SavedModel or ``.tflite``, or an unknown device.
      RuntimeError: a compiled model without the Edge TPU runtime (the message says so in one line).
    """
    model_path = Path(model_path)
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if not model_path.exists():
        raise FileNotFoundError(f"no model at {model_path}")
    if model_path.is_dir():
        from edgetpu_detector.inference.saved_model_detector import SavedModelDetector  # TensorFlow: only here

        return SavedModelDetector(model_path)
    if model_path.suffix != ".tflite":
        raise ValueError(f"{model_path}: expected a SavedModel folder or a .tflite file")
    return TFLiteDetector(model_path, device=device, num_threads=num_threads)

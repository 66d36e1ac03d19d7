"""Run a detection ``.tflite`` (float, int8 or Edge TPU compiled) on one image with ai_edge_litert.

Works with the models of ``common.export.tflite``: input [1, S, S, 3] (uint8 raw pixels, or float32
pixels 0..255), outputs boxes / classes / scores / count in pycoral's order.
"""
from pathlib import Path

import numpy as np

from common.export.edgetpu import EDGETPU_LIBRARY
from common.export.images import check_image, resize_image


def make_interpreter(path, edgetpu=False, num_threads=None):
    """Load a ``.tflite`` model into an ``ai_edge_litert`` Interpreter with tensors allocated.

    Args:
      path: ``.tflite`` file.
      edgetpu: load the Edge TPU delegate (``libedgetpu.so.1``; Coral docs) for ``*_edgetpu.tflite``.
      num_threads: CPU threads, or None for the runtime's default.

    Raises:
      FileNotFoundError: no such file. ValueError: the Edge TPU delegate cannot be loaded.
    """
    from ai_edge_litert.interpreter import Interpreter, load_delegate

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no TFLite model at {path}")
    delegates = [load_delegate(EDGETPU_LIBRARY)] if edgetpu else None
    interpreter = Interpreter(str(path), experimental_delegates=delegates, num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter


def run_tflite_detector(model, image, clip_boxes=True):
    """Detect objects in one image.

    Args:
      model: ``.tflite`` path or an Interpreter from ``make_interpreter`` (reuse it for many images).
      image: uint8 [H, W, 3] RGB; resized to the model's input size with Pillow (bilinear) when needed.
      clip_boxes: clip boxes to [0, 1] (the TFLite op does not clip; the SavedModel does).

    Returns:
      dict of numpy arrays, trimmed to the ``count`` valid detections:
        ``boxes``: float32 [count, 4] ymin, xmin, ymax, xmax normalized to the (resized) image;
        ``classes``: int32 [count] 0-based class index (label-map id - 1; pycoral's convention);
        ``scores``: float32 [count];
        ``count``: int.

    Raises:
      TypeError / ValueError: bad image; ValueError: the model does not have 1 image input and 4 outputs.
    """
    interpreter = make_interpreter(model) if isinstance(model, (str, Path)) else model
    image = check_image(image)
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 4:
        raise ValueError(f"expected a detector with 1 input and 4 outputs, got {len(inputs)} and {len(outputs)}")
    _, height, width, _ = (int(d) for d in inputs[0]["shape"])
    pixels = resize_image(image, height, width)[np.newaxis]
    dtype = inputs[0]["dtype"]
    if dtype == np.uint8:
        scale, zero_point = inputs[0]["quantization"]
        if scale and (abs(scale - 1.0) > 1e-3 or zero_point != 0):
            pixels = np.clip(np.round(pixels / scale + zero_point), 0, 255)
        pixels = pixels.astype(np.uint8)
    elif dtype == np.float32:
        pixels = pixels.astype(np.float32)
    else:
        raise ValueError(f"unsupported input dtype {dtype}")
    interpreter.set_tensor(inputs[0]["index"], pixels)
    interpreter.invoke()
    boxes, classes, scores, count = (interpreter.get_tensor(d["index"]) for d in outputs)
    n = int(np.asarray(count).reshape(-1)[0])
    boxes = np.asarray(boxes, np.float32)[0, :n]
    if clip_boxes:
        boxes = np.clip(boxes, 0.0, 1.0)
    return {"boxes": boxes, "classes": np.asarray(classes)[0, :n].astype(np.int32),
            "scores": np.asarray(scores, np.float32)[0, :n], "count": n}

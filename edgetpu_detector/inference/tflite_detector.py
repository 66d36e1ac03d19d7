"""A detection ``.tflite`` (float, int8 or Edge TPU-compiled) as a ``Detector``, through ``ai_edge_litert``.

Works with the models of ``edgetpu_detector.export.tflite_converter``: input [1, S, S, 3] (uint8 raw pixels, or
float32 pixels 0..255), outputs boxes / classes / scores / count in pycoral's order, classes 0-based. Imports
no TensorFlow.

Device rules: a compiled ``*_edgetpu.tflite`` runs through the Edge TPU delegate when the runtime loads;
otherwise its ``cpu_fallback`` (the uncompiled int8 model) runs on the CPU with a one-line notice; without a
fallback the compiled file itself is tried on the CPU, which fails for a really compiled model (its
``edgetpu-custom-op`` needs the runtime: RuntimeError saying so). Any other model runs on the CPU;
``device="edgetpu"`` tries the delegate for it and says so in one line when the runtime is absent.
"""
from pathlib import Path
import threading

import numpy as np

from edgetpu_detector.core.class_ids import label_map_id
from edgetpu_detector.images.arrays import check_image, resize_image
from edgetpu_detector.inference.detections import Detections
from edgetpu_detector.tflite.interpreter import (
    EDGETPU_LIBRARY,
    edgetpu_runtime_available,
    is_compiled_for_edgetpu,
    make_interpreter,
)

DEVICES = ("auto", "cpu", "edgetpu")
EDGETPU_ABSENT = f"Edge TPU runtime ({EDGETPU_LIBRARY}) not found or no Edge TPU attached"


def _choose(model_path, device, cpu_fallback):
    """``(path to load, use the delegate, notice)`` following the module's device rules."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    compiled = is_compiled_for_edgetpu(model_path)
    wants_edgetpu = (compiled and device != "cpu") or device == "edgetpu"
    if not wants_edgetpu:
        return model_path, False, ""
    if edgetpu_runtime_available():
        return model_path, True, ""
    if not compiled:
        return model_path, False, f"{EDGETPU_ABSENT}: running {model_path.name} on the CPU"
    if cpu_fallback:
        return (Path(cpu_fallback), False,
                f"{EDGETPU_ABSENT}: running {Path(cpu_fallback).name} on the CPU instead of {model_path.name}")
    return model_path, False, f"{EDGETPU_ABSENT}: running {model_path.name} on the CPU"


class TFLiteDetector:
    """Detect objects with a detection ``.tflite``; safe to call from several threads (calls take turns).

    Args:
      model_path: ``.tflite`` file.
      device: ``auto`` (the Edge TPU for a compiled model, else the CPU), ``cpu`` or ``edgetpu``.
      num_threads: CPU threads of the interpreter, or None for the runtime's default.
      cpu_fallback: optional uncompiled int8 model, run when a compiled ``model_path`` cannot run.
      default_delegates: False disables the default XNNPACK delegate (builtin kernels only).

    Attributes:
      kind: ``"tflite_edgetpu"`` or ``"tflite_cpu"``; notice: one line for the user, or "";
      path: the model file actually loaded; input_size: (height, width) of the model input.

    Raises:
      FileNotFoundError: no such model. ValueError: bad ``device``, or the model does not have one image
      input and four outputs. RuntimeError: a compiled model that cannot run (see the module docstring).
    """

    def __init__(self, model_path, device="auto", num_threads=None, cpu_fallback=None, default_delegates=True):
        path, edgetpu, self.notice = _choose(Path(model_path), device, cpu_fallback)
        self.path = path
        self.kind = "tflite_edgetpu" if edgetpu else "tflite_cpu"
        try:
            self.interpreter = make_interpreter(path, edgetpu=edgetpu, num_threads=num_threads,
                                                default_delegates=default_delegates)
        except (RuntimeError, ValueError) as error:
            if not (is_compiled_for_edgetpu(path) and not edgetpu):
                raise
            raise RuntimeError(f"{EDGETPU_ABSENT}: {path.name} is compiled for the Edge TPU and cannot run on the "
                               f"CPU; run the CPU model (model_int8.tflite) instead ({error})") from error
        self._input = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        if len(self._input) != 1 or len(self._outputs) != 4:
            raise ValueError(f"{path.name}: expected a detector with 1 input and 4 outputs, got "
                             f"{len(self._input)} and {len(self._outputs)}")
        _, height, width, _ = (int(d) for d in self._input[0]["shape"])
        self.input_size = (height, width)
        self._lock = threading.Lock()

    @property
    def max_detections(self):
        """N, the number of detection slots of each output (the boxes output is [1, N, 4])."""
        return int(self._outputs[0]["shape"][1])

    def input_tensor(self, image):
        """The model input for one uint8 [H, W, 3] image: resized (Pillow, bilinear), cast or quantized to the
        input dtype, with the batch dimension."""
        pixels = resize_image(check_image(image), *self.input_size)[np.newaxis]
        dtype = self._input[0]["dtype"]
        if dtype == np.uint8:
            scale, zero_point = self._input[0]["quantization"]
            if scale and (abs(scale - 1.0) > 1e-3 or zero_point != 0):
                pixels = np.clip(np.round(pixels / scale + zero_point), 0, 255)
            return pixels.astype(np.uint8)
        if dtype == np.float32:
            return pixels.astype(np.float32)
        raise ValueError(f"{self.path.name}: unsupported input dtype {dtype}")

    def outputs(self, image):
        """Every output slot of the model for one image, untrimmed and unclipped.

        Returns:
          dict of numpy arrays: ``boxes`` float32 [N, 4], ``classes`` float32 [N] (0-based class indices),
          ``scores`` float32 [N], ``count`` int (valid slots, as the model says).
        """
        pixels = self.input_tensor(image)
        with self._lock:
            self.interpreter.set_tensor(self._input[0]["index"], pixels)
            self.interpreter.invoke()
            boxes, classes, scores, count = (np.array(self.interpreter.get_tensor(d["index"]))
                                             for d in self._outputs)
        return {"boxes": boxes[0].astype(np.float32), "classes": classes[0].astype(np.float32),
                "scores": scores[0].astype(np.float32), "count": int(count.reshape(-1)[0])}

    def detect(self, image, clip_boxes=True):
        """Detections of one uint8 [H, W, 3] RGB image (resized with Pillow, bilinear, when needed).

        Args:
          image: uint8 [H, W, 3].
          clip_boxes: clip boxes to [0, 1] (the TFLite op does not clip; the SavedModel does).

        Returns:
          ``Detections`` of the ``count`` valid slots, classes as label-map ids.

        Raises:
          TypeError / ValueError: bad image.
        """
        out = self.outputs(image)
        n = out["count"]
        boxes = out["boxes"][:n]
        if clip_boxes:
            boxes = np.clip(boxes, 0.0, 1.0)
        return Detections(boxes, label_map_id(out["classes"][:n].astype(np.int32)), out["scores"][:n])

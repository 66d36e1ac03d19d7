"""The MLflow pyfunc model of a detection ``.tflite`` (int8 or Edge TPU compiled), through ``ai_edge_litert``.

Input: a pandas DataFrame with a column ``image`` of encoded image bytes (JPEG, PNG, ...), one image per row;
over REST the scoring server base64-decodes the column (signature type ``binary``). Output: a DataFrame with
one row per detection, columns ``DETECTION_COLUMNS``. Imports neither TensorFlow nor MLflow's flavors: the
served model needs ``ai-edge-litert``, numpy, pandas and Pillow.

Serving limits (a bad request is refused with ``InvalidRequest``, which the scoring server answers with HTTP
400 and the message): at most ``max_images`` images per request (64), at most ``max_pixels`` pixels per image
(40 MP, checked from the header before decoding), and at most ``MAX_CONCURRENT_DECODES`` images decoded at
once per process, whatever the number of concurrent requests, so the server's memory stays bounded
(about ``MAX_CONCURRENT_DECODES`` x 3 bytes x ``max_pixels`` for the pixels, besides the request bodies).
"""
import threading

from mlflow.exceptions import MlflowException
import mlflow.pyfunc
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
import numpy as np
import pandas as pd

from edgetpu_detector.data.label_map import read_labels_txt
from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS, ImageTooLarge, decode_image
from edgetpu_detector.inference.tflite_detector import TFLiteDetector

IMAGE_COLUMN = "image"
# Output columns and their pandas dtypes.
DETECTION_COLUMNS = {
    "image_index": "int64",  # row of the input DataFrame (0-based position)
    "class_id": "int64",  # label-map id (edgetpu_detector.core.class_ids)
    "label": "object",  # name from labels.txt; the id as text when labels.txt has no name for it
    "score": "float64",  # 0..1
    "ymin": "float64",  # box corners normalized to [0, 1] by the image's height / width, clipped
    "xmin": "float64",
    "ymax": "float64",
    "xmax": "float64",
}
# Artifact keys of the logged model.
MODEL_ARTIFACT = "model"
LABELS_ARTIFACT = "labels"
CPU_MODEL_ARTIFACT = "cpu_model"  # optional: the int8 model to run when a compiled one cannot
# the key of ``model_config`` that holds the settings: MLflow logs a model's config as run params, flattened
# (``serving/max_detections``), which then cannot collide with the run's own params (``max_detections=auto``)
SERVING_CONFIG = "serving"
MAX_IMAGES_PER_REQUEST = 64
SERVING_MAX_PIXELS = 40_000_000  # 40 MP: above common phone photos; 3 bytes a pixel decoded (120 MB)
MAX_CONCURRENT_DECODES = 2
_DECODES = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


class InvalidRequest(MlflowException, ValueError):
    """A request the model refuses (bad image, too many images, bad param): HTTP 400 from the scoring
    server, with this message; a ValueError for in-process callers."""

    def __init__(self, message):
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


class TFLiteDetectorModel(mlflow.pyfunc.PythonModel):
    """Detect objects with a ``.tflite`` detector (``edgetpu_detector.inference.tflite_detector``).

    Artifacts: ``model`` (``.tflite``: ``model_int8.tflite``, or a compiled ``*_edgetpu.tflite``), ``labels``
    (``labels.txt``: line i = TFLite class i = label-map id i + 1) and, optionally, ``cpu_model`` (the
    uncompiled int8 model, run on the CPU when a compiled ``model`` cannot run).

    Device: ``TFLiteDetector``'s rules: a compiled ``*_edgetpu.tflite`` runs through the Edge TPU delegate
    (``libedgetpu.so.1``) when the runtime loads; otherwise one line is printed and ``cpu_model`` runs on the
    CPU (without it, the compiled model is tried on the CPU: RuntimeError for a really compiled one). Any other
    ``.tflite`` runs on the CPU. ``device`` says which after
    ``load_context``: ``"edgetpu"`` or ``"cpu"``.

    Args (each overridden by the same key of the model's ``model_config[SERVING_CONFIG]``, which
    ``log_tflite_model`` sets; models logged by earlier versions have them at the top level):
      score_threshold: default of the ``score_threshold`` param: detections below it are dropped. The
        model's own threshold (baked into its post-processing op at conversion) applies first.
      max_detections: default of the ``max_detections`` param (at most this many detections per image,
        best first); None: all the model returns.
      num_threads: CPU threads of the interpreter, or None for the runtime's default.
      max_images: most images in one request (``MAX_IMAGES_PER_REQUEST``).
      max_pixels: most pixels of one image (``SERVING_MAX_PIXELS``).
    """

    def __init__(self, score_threshold=0.3, max_detections=None, num_threads=None,
                 max_images=MAX_IMAGES_PER_REQUEST, max_pixels=SERVING_MAX_PIXELS):
        self.score_threshold = float(score_threshold)
        self.max_detections = None if max_detections is None else int(max_detections)
        self.num_threads = num_threads
        self.max_images = int(max_images)
        self.max_pixels = int(max_pixels)
        self.device = None
        self.notice = ""

    def __getstate__(self):
        """Pickle the settings only; the interpreter, labels and lock are rebuilt by ``load_context``."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def load_context(self, context):
        """Load the interpreter and the labels from ``context.artifacts`` (see the class docstring) and the
        settings from ``context.model_config``.

        Raises:
          KeyError: no ``model`` or ``labels`` artifact. FileNotFoundError: a missing file.
          RuntimeError: a compiled model that can run neither on the Edge TPU nor on the CPU.
        """
        config = getattr(context, "model_config", None) or {}
        config = config.get(SERVING_CONFIG, config)
        if config.get("score_threshold") is not None:
            self.score_threshold = float(config["score_threshold"])
        if config.get("max_detections") is not None:
            self.max_detections = int(config["max_detections"])
        for name in ("num_threads", "max_images", "max_pixels"):
            if config.get(name) is not None:
                setattr(self, name, int(config[name]))
        artifacts = context.artifacts
        self._labels = read_labels_txt(artifacts[LABELS_ARTIFACT])
        try:
            self._detector = TFLiteDetector(artifacts[MODEL_ARTIFACT], num_threads=self.num_threads,
                                            cpu_fallback=artifacts.get(CPU_MODEL_ARTIFACT))
        except RuntimeError as error:
            print(error, flush=True)
            raise
        self.device = "edgetpu" if self._detector.kind == "tflite_edgetpu" else "cpu"
        self.notice = self._detector.notice
        if self.notice:
            print(self.notice, flush=True)

    def predict(self, context, model_input: pd.DataFrame, params=None):
        """Detect objects in every image of ``model_input``.

        Args:
          context: the ``PythonModelContext`` (unused).
          model_input: pandas DataFrame with a column ``image`` of encoded image bytes (a dict
            ``{"image": [...]}`` or a list of bytes is accepted too).
          params: optional dict: ``score_threshold`` (float, 0..1; default the logged value),
            ``max_detections`` (int >= 0 per image; default the logged value; None: all).

        Returns:
          pandas DataFrame with one row per detection, images in input order and detections by descending
          score, columns and dtypes ``DETECTION_COLUMNS``; no rows when nothing is detected.

        Raises:
          InvalidRequest (a ValueError): no ``image`` column; no image or more than ``max_images``; a row
            whose value is not a decodable image (the message names the row, e.g. ``row 2: not a decodable
            image (17 bytes): ...``) or has more than ``max_pixels`` pixels; a bad param.
        """
        try:
            return self._predict(model_input, params or {})
        except InvalidRequest:
            raise
        except ValueError as error:
            raise InvalidRequest(str(error)) from error

    def _predict(self, model_input, params):
        threshold = params.get("score_threshold")
        threshold = self.score_threshold if threshold is None else float(threshold)
        limit = params.get("max_detections", self.max_detections)
        if limit is not None and int(limit) < 0:
            raise ValueError(f"max_detections must be >= 0, got {limit}")
        images = _image_column(model_input)
        if not images:
            raise ValueError("the request holds no image")
        if len(images) > self.max_images:
            raise ValueError(f"{len(images)} images in one request; at most {self.max_images}: split it")
        rows = []
        for index, data in enumerate(images):  # one decoded image of this request in memory at a time
            with _DECODES:
                pixels = _decode_row(data, f"row {index}", self.max_pixels)
                detections = self._detector.detect(pixels).above(threshold, limit)
                del pixels
            for box, class_id, score in zip(detections.boxes, detections.classes, detections.scores):
                ymin, xmin, ymax, xmax = (float(v) for v in box)
                rows.append((index, int(class_id), self._labels.get(int(class_id), str(int(class_id))), float(score),
                             ymin, xmin, ymax, xmax))
        return pd.DataFrame(rows, columns=list(DETECTION_COLUMNS)).astype(DETECTION_COLUMNS)


def _image_column(model_input):
    """The sequence of encoded images in ``model_input`` (see ``TFLiteDetectorModel.predict``)."""
    if isinstance(model_input, pd.DataFrame):
        if IMAGE_COLUMN not in model_input.columns:
            raise ValueError(f"the input needs a column {IMAGE_COLUMN!r} of encoded image bytes; got columns "
                             f"{list(model_input.columns)}")
        return model_input[IMAGE_COLUMN].tolist()
    if isinstance(model_input, dict) and IMAGE_COLUMN in model_input:
        return list(model_input[IMAGE_COLUMN])
    if isinstance(model_input, (list, tuple)):
        return list(model_input)
    raise ValueError(f"expected a pandas DataFrame with a column {IMAGE_COLUMN!r} of encoded image bytes, "
                     f"got {type(model_input).__name__}")


_BYTES_TYPES = (bytes, bytearray, memoryview, np.bytes_)


def _decode_row(data, where, max_pixels=DEFAULT_MAX_PIXELS):
    """Decode the encoded image of one request row with ``edgetpu_detector.images.decode.decode_image``.

    Raises:
      ValueError: ``where`` and the problem: not bytes (e.g. a str: base64 text must be decoded first; the
        MLflow scoring server does it for a ``binary`` column), empty, not a decodable image, or above
        ``max_pixels`` (``ImageTooLarge``, a ValueError).
    """
    if not isinstance(data, _BYTES_TYPES):
        hint = " (base64 text? decode it to bytes first)" if isinstance(data, str) else ""
        raise ValueError(f"{where}: expected the encoded image as bytes, got {type(data).__name__}{hint}")
    data = bytes(data)
    if not data:
        raise ValueError(f"{where}: empty image bytes")
    try:
        return decode_image(data, max_pixels)
    except ImageTooLarge as error:
        raise ImageTooLarge(f"{where}: {error}") from error
    except ValueError as error:
        raise ValueError(f"{where}: not a decodable image ({len(data)} bytes): {error}") from error

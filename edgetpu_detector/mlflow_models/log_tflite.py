"""Log a detection ``.tflite`` and its ``labels.txt`` as an MLflow pyfunc model (``TFLiteDetectorModel``).

The model is logged from code (``tflite_model_code.py``, nothing pickled; settings in ``model_config``) and
carries the project's ``edgetpu_detector`` package (``code_paths``), so ``mlflow models serve`` and
``mlflow.pyfunc.load_model`` need only the pinned requirements, not this checkout.
"""
from pathlib import Path
import warnings

import mlflow
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
import pandas as pd

from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.mlflow_models.requirements import pinned_requirements
from edgetpu_detector.mlflow_models.tflite_pyfunc import (
    CPU_MODEL_ARTIFACT,
    DETECTION_COLUMNS,
    IMAGE_COLUMN,
    LABELS_ARTIFACT,
    MODEL_ARTIFACT,
    SERVING_CONFIG,
)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the project's ``edgetpu_detector`` package
MODEL_CODE = Path(__file__).with_name("tflite_model_code.py")  # builds a TFLiteDetectorModel on loading
TFLITE_REQUIREMENTS = ("mlflow", "ai-edge-litert", "numpy", "pandas", "pillow", "protobuf")
_COLUMN_TYPES = {"int64": "long", "object": "string", "float64": "double"}


def tflite_signature(score_threshold, max_detections):
    """The pyfunc signature: input column ``image`` (binary), the detection columns, and the params.

    Args:
      score_threshold: float, default of the ``score_threshold`` param.
      max_detections: int, default of the ``max_detections`` param.

    Returns:
      ``mlflow.models.ModelSignature``.
    """
    outputs = Schema([ColSpec(_COLUMN_TYPES[dtype], name) for name, dtype in DETECTION_COLUMNS.items()])
    params = ParamSchema([ParamSpec("score_threshold", "double", float(score_threshold)),
                          ParamSpec("max_detections", "long", int(max_detections))])
    return ModelSignature(inputs=Schema([ColSpec("binary", IMAGE_COLUMN)]), outputs=outputs, params=params)


def log_tflite_model(tflite_path, labels_path, name, example_image_bytes, score_threshold=0.3, max_detections=None,
                     cpu_tflite_path=None, num_threads=None, extra_pip_requirements=(), **log_model_kwargs):
    """Log a detection ``.tflite`` as an MLflow pyfunc model in the active run (or a new one).

    Args:
      tflite_path: ``model_int8.tflite``, or a compiled ``*_edgetpu.tflite`` (see ``TFLiteDetectorModel``).
      labels_path: ``labels.txt`` of the model.
      name: the model's name in the run (``runs:/<run id>/<name>``).
      example_image_bytes: bytes of one real image file (JPEG/PNG), saved as the input example; MLflow also
        serves it once through the logged model to check that it loads and predicts.
      score_threshold: default score threshold of ``predict`` (0..1); the convert step's value.
      max_detections: default number of detections per image; None: the model's output size N.
      cpu_tflite_path: optional uncompiled int8 model, run when a compiled ``tflite_path`` cannot run.
      num_threads: CPU threads of the served interpreter, or None.
      extra_pip_requirements: more ``name==version`` lines to pin, added to ``TFLITE_REQUIREMENTS``.
      log_model_kwargs: passed on to ``mlflow.pyfunc.log_model`` (e.g. ``registered_model_name``).

    Returns:
      ``mlflow.models.model.ModelInfo`` (``model_uri`` is ``models:/<model id>``; ``runs:/<run id>/<name>``
      names it too).

    Raises:
      FileNotFoundError: a missing file. ValueError: no example bytes, or ``max_detections`` is None and
        cannot be read from the model (see ``model_max_detections``).
    """
    tflite_path, labels_path = Path(tflite_path), Path(labels_path)
    for path in (tflite_path, labels_path, *([Path(cpu_tflite_path)] if cpu_tflite_path else [])):
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
    if not isinstance(example_image_bytes, (bytes, bytearray)) or not example_image_bytes:
        raise ValueError("example_image_bytes must be the non-empty bytes of an image file")
    if max_detections is None:
        max_detections = model_max_detections(tflite_path, cpu_tflite_path)
    artifacts = {MODEL_ARTIFACT: str(tflite_path), LABELS_ARTIFACT: str(labels_path)}
    if cpu_tflite_path:
        artifacts[CPU_MODEL_ARTIFACT] = str(cpu_tflite_path)
    model_config = {"score_threshold": float(score_threshold), "max_detections": int(max_detections)}
    if num_threads is not None:
        model_config["num_threads"] = int(num_threads)
    model_config = {SERVING_CONFIG: model_config}
    with warnings.catch_warnings():  # MLflow's own pandas 3 deprecation warning, saving the input example
        warnings.filterwarnings("ignore", message="Operation with range is deprecated")
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE),  # models from code: nothing pickled
            model_config=model_config,
            artifacts=artifacts,
            code_paths=[str(PACKAGE_DIR)],
            signature=tflite_signature(score_threshold, max_detections),
            input_example=pd.DataFrame({IMAGE_COLUMN: [bytes(example_image_bytes)]}),
            pip_requirements=pinned_requirements(*TFLITE_REQUIREMENTS) + list(extra_pip_requirements),
            **log_model_kwargs,
        )


def model_max_detections(*paths):
    """N, the detections per image that a detection ``.tflite`` returns (its boxes output is [1, N, 4]).

    Reads the first of ``paths`` (None entries skipped) that loads on the CPU: the custom post-processing
    op's outputs have no static shape in the file, only once the interpreter allocated them. A compiled
    ``*_edgetpu.tflite`` does not load without the Edge TPU runtime; pass its CPU model too.

    Raises:
      ValueError: no path loads, or the model does not have 4 outputs.
    """
    errors = []
    for path in (p for p in paths if p):
        try:
            return TFLiteDetector(path, device="cpu").max_detections
        except (RuntimeError, ValueError) as error:
            errors.append(f"{Path(path).name}: {error}")
    raise ValueError(f"cannot read the number of detections of the model ({'; '.join(errors)}); "
                     f"pass max_detections")

"""The tracking store and the artifacts passed between runs: the default store, artifact folder names, downloads."""
import os
from pathlib import Path
import re

import mlflow

from edgetpu_detector.tracking.store_init import initialize_store

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the checkout: MLproject, steps/, edgetpu_detector/
DEFAULT_EXPERIMENT = "edgetpu-detector"

# Artifact folders, the contract between steps.
DATA_ARTIFACTS = "data"
MODEL_ARTIFACTS = "model"
EVAL_ARTIFACTS = "evaluation"
EXPORT_ARTIFACTS = "export"
# Tags of the convert run holding the URIs of its MLflow models (``runs:/`` or ``models:/``).
SERVING_MODEL_TAG = "serving_model_uri"  # int8 (or Edge TPU) TFLite as a pyfunc model
SAVED_MODEL_TAG = "saved_model_uri"  # the SavedModel through mlflow.tensorflow
# Tag of the preprocess run: "synthetic" (the generated demo) or "real"; retrain plans its budget by it.
DATASET_KIND_TAG = "dataset_kind"


def default_tracking_uri(project_dir=PROJECT_DIR):
    """``sqlite:///<project>/mlflow.db``: the local store used when ``MLFLOW_TRACKING_URI`` is unset."""
    return f"sqlite:///{Path(project_dir).resolve() / 'mlflow.db'}"


def ensure_tracking_uri():
    """Set ``MLFLOW_TRACKING_URI`` to the project's SQLite store unless the user chose one, create a SQLite
    store's tables under its lock when they are missing (``edgetpu_detector.tracking.store_init``: safe
    when several processes start together); return the URI."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    initialize_store(uri)
    return uri


def download_artifacts(run_id, artifact_path, dst_dir):
    """Download ``artifact_path`` of run ``run_id`` into ``dst_dir`` and return the local path (Path).

    Raises:
      mlflow.exceptions.MlflowException: unknown run or missing artifact, with MLflow's message.
    """
    Path(dst_dir).mkdir(parents=True, exist_ok=True)
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path,
                                                    dst_path=str(dst_dir)))


def metric_key(name):
    """An MLflow-safe metric key: characters outside ``[A-Za-z0-9_\\-. /]`` become ``_``."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)


def artifact_local_path(run_id, artifact_path):
    """Local filesystem path of a run's artifact when the store is local (``file:`` URIs), else None."""
    uri = mlflow.get_run(run_id).info.artifact_uri
    if uri.startswith("file://"):
        return Path(uri[len("file://"):]) / artifact_path
    if "://" not in uri:
        return Path(uri) / artifact_path
    return None

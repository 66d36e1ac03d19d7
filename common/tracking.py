"""MLflow plumbing shared by the steps: the default tracking store and passing artifacts between runs."""
import os
from pathlib import Path
import re

import mlflow
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.meta_dataset import MetaDataset

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_EXPERIMENT = "edgetpu-detector"

# Artifact folders, the contract between steps.
DATA_ARTIFACTS = "data"
MODEL_ARTIFACTS = "model"
EVAL_ARTIFACTS = "evaluation"
EXPORT_ARTIFACTS = "export"
# Tags of the convert run holding the URIs of its MLflow models (``runs:/`` or ``models:/``).
SERVING_MODEL_TAG = "serving_model_uri"  # int8 (or Edge TPU) TFLite as a pyfunc model
SAVED_MODEL_TAG = "saved_model_uri"  # the SavedModel through mlflow.tensorflow


def default_tracking_uri(project_dir=PROJECT_DIR):
    """``sqlite:///<project>/mlflow.db``: the local store used when ``MLFLOW_TRACKING_URI`` is unset."""
    return f"sqlite:///{Path(project_dir).resolve() / 'mlflow.db'}"


def ensure_tracking_uri():
    """Set ``MLFLOW_TRACKING_URI`` to the project's SQLite store unless the user chose one; return it."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
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


GENERIC_FOLDER_NAMES = frozenset({"data", "dataset", "datasets", "images", "annotations", "train", "labels"})


def dataset_display_name(path):
    """A short name for a dataset folder: its name, with its parent's when the name alone says nothing
    (``.../fruit_nuts/data`` -> ``fruit_nuts/data``)."""
    path = Path(path)
    if path.name.lower() in GENERIC_FOLDER_NAMES and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name or str(path)


class UriDatasetSource(DatasetSource):
    """A minimal MLflow dataset source that only records where a dataset is (a local path, or a ``runs:/``
    URI of a preprocess run's ``data``); the steps read the data themselves, not through MLflow."""

    def __init__(self, uri):
        self.uri = str(uri)

    @staticmethod
    def _get_source_type():
        return "uri"

    def load(self, **kwargs):
        raise NotImplementedError("the steps read this dataset themselves")

    @staticmethod
    def _can_resolve(raw_source):
        return False

    @classmethod
    def _resolve(cls, raw_source):
        raise NotImplementedError("not resolvable from a raw source")

    def to_dict(self):
        return {"uri": self.uri}

    @classmethod
    def from_dict(cls, source_dict):
        return cls(source_dict["uri"])


def log_dataset_input(name, fingerprint, source, context):
    """Log a dataset as an input of the active run (the UI's *Datasets* column), identified by its content
    fingerprint (``common.fingerprint``; the first 16 hex digits are MLflow's digest).

    Args:
      name: dataset name shown in the UI (e.g. ``fruit_nuts/data``).
      fingerprint: hex str from ``content_fingerprint``.
      source: where it came from: a local path, or a ``runs:/`` URI of a preprocess run's ``data``.
      context: ``"source"`` (the labelled folder), ``"training"``, ``"evaluation"`` or ``"calibration"``.
    """
    dataset = MetaDataset(source=UriDatasetSource(source), name=name, digest=fingerprint[:16])
    mlflow.log_input(dataset, context=context)

"""Datasets as MLflow inputs (the UI's *Datasets* column), identified by their content fingerprint."""
from pathlib import Path

import mlflow
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.meta_dataset import MetaDataset

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
    fingerprint (``edgetpu_detector.core.hashing``; the first 16 hex digits are MLflow's digest).

    Args:
      name: dataset name shown in the UI (e.g. ``fruit_nuts/data``).
      fingerprint: hex str from ``content_fingerprint``.
      source: where it came from: a local path, or a ``runs:/`` URI of a preprocess run's ``data``.
      context: ``"source"`` (the labelled folder), ``"training"``, ``"evaluation"`` or ``"calibration"``.
    """
    dataset = MetaDataset(source=UriDatasetSource(source), name=name, digest=fingerprint[:16])
    mlflow.log_input(dataset, context=context)

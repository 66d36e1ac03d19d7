"""Fixtures of the step tests: a local MLflow store for the steps' runs."""
import mlflow
from mlflow.tracking import MlflowClient
import pytest


@pytest.fixture
def local_store(tmp_path, monkeypatch):
    """A SQLite tracking store and an experiment in ``tmp_path``, set for this process and the steps it runs
    (``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_ID``): yields (MlflowClient, experiment id)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("steps", artifact_location=(tmp_path / "artifacts").as_uri())
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment)
    return MlflowClient(uri), experiment

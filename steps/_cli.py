"""Plumbing shared by the step CLIs: number parsing and the MLflow run each step works in."""
import argparse
from contextlib import contextmanager
from pathlib import Path
import tempfile

import mlflow

from common.tracking import DATA_ARTIFACTS, MODEL_ARTIFACTS, download_artifacts, ensure_tracking_uri


def whole_number(text):
    """Parse ``"300"`` or ``"300.0"`` as int 300 (MLflow passes numbers as the user typed them); reject
    fractions and non-numbers with argparse's error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(value)


@contextmanager
def step_run():
    """Open the step's MLflow run (the one ``mlflow run`` created, or a new one) and a scratch folder.

    Yields:
      Path of a temporary folder, removed afterwards (artifacts are logged from it before then).
    """
    ensure_tracking_uri()
    with mlflow.start_run(), tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def fetch_inputs(tmp, data_run_id, model_run_id=None):
    """Download the preprocess run's ``data/`` (and the retrain run's ``model/``) into ``tmp/input``.

    Returns:
      (data_dir, model_dir or None) as Paths.
    """
    data = download_artifacts(data_run_id, DATA_ARTIFACTS, tmp / "input")
    model = download_artifacts(model_run_id, MODEL_ARTIFACTS, tmp / "input") if model_run_id else None
    tags = {"data_run_id": data_run_id, **({"model_run_id": model_run_id} if model_run_id else {})}
    mlflow.set_tags(tags)
    return data, model

"""Cleaning up after the tests that run ``run.sh`` on a store of their own: the artifacts of a new SQLite store
go to the project's ``mlruns/`` (MLflow's default artifact root, relative to the project folder where
``mlflow run`` runs the steps), so each such test removes its runs' and logged models' folders there."""
from pathlib import Path
import shutil

PROJECT_DIR = Path(__file__).resolve().parents[2]


def remove_project_artifacts(client, experiment_name):
    """Delete the artifact folders under ``<project>/mlruns`` of experiment ``experiment_name`` of
    ``client``'s store (its runs and logged models), then the folders left empty."""
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return
    mlruns = PROJECT_DIR / "mlruns"
    runs = client.search_runs([experiment.experiment_id])
    models = client.search_logged_models(experiment_ids=[experiment.experiment_id])
    folders = [Path(run.info.artifact_uri.removeprefix("file://")).parent for run in runs]
    folders += [Path(model.artifact_location.removeprefix("file://")).parent for model in models]
    for folder in folders:
        if folder.is_relative_to(mlruns) and folder != mlruns:
            shutil.rmtree(folder, ignore_errors=True)
    for folder in sorted({f.parent for f in folders} | {f.parent.parent for f in folders}, reverse=True):
        if folder.is_relative_to(mlruns) and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

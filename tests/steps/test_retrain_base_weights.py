"""``base_weights`` given as the id of an earlier retrain run: the step fetches that run's ``model/`` folder."""
import mlflow
import pytest

from steps.retrain import _base_weights


def test_run_id_becomes_the_runs_model_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("w", artifact_location=(tmp_path / "artifacts").as_uri())
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.weights.h5").write_bytes(b"weights")
    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.log_artifacts(str(tmp_path / "model"), artifact_path="model")
    path, kind = _base_weights(run.info.run_id, tmp_path / "tmp")
    assert kind == "mlflow_run" and (tmp_path / "tmp").exists()
    assert open(f"{path}/model.weights.h5", "rb").read() == b"weights"
    with mlflow.start_run(experiment_id=experiment) as empty:
        pass
    with pytest.raises(ValueError, match=f"MLflow run {empty.info.run_id} has no model/ artifacts"):
        _base_weights(empty.info.run_id, tmp_path / "tmp2")
    assert _base_weights("zoo:ssd_mobilenet_v1_coco", tmp_path) == ("zoo:ssd_mobilenet_v1_coco", None)

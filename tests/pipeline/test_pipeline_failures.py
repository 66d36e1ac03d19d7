"""A step that raises: its run FAILED with the error as tags and its log as an artifact, the pipeline's run
FAILED, nothing after it started, and the console says what failed and how to resume.

(The other failure, a step killed mid-way, is exercised by the end-to-end module: its first pipeline run has
its training process killed.)
"""
import os
from pathlib import Path
import subprocess
import sys

from mlflow.tracking import MlflowClient
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_raising_step_fails_its_run_and_the_pipeline(tmp_path):
    data = tmp_path / "labelled"
    data.mkdir()
    (data / "only.xml").write_text("<annotation><filename>only.jpg</filename>")  # truncated XML, no image
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "failures",
           "PYTHON": sys.executable, "EDGETPU_DETECTOR_WORK_DIR": str(tmp_path / "work")}
    proc = subprocess.run([str(PROJECT_DIR / "run.sh"), "-P", f"data_dir={data}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("failures")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert [r.data.tags["mlflow.project.entryPoint"] for r in children] == ["preprocess"]  # nothing after it
    (step,) = children
    assert step.info.status == "FAILED" and parent.info.status == "FAILED"
    error = step.data.tags["error"]
    assert error.startswith("ValueError: ") and str(data) in error
    assert step.data.tags["error_type"] == "ValueError"
    assert parent.data.tags["failed_step"] == "preprocess"
    assert parent.data.tags["error"] == f"step preprocess failed: {error}"
    log = Path(client.download_artifacts(step.info.run_id, "logs/preprocess.log", str(tmp_path))).read_text()
    assert "Traceback (most recent call last)" in log and error in log
    assert f"=== preprocess FAILED: {error} ===" in output
    assert "Run the same command again to resume" in output
    assert "cache_key" in step.data.tags  # a FAILED run is never reused: the next run retries it

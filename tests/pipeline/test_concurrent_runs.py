"""Four pipelines started at the same moment on a tracking store that does not exist yet, as four users
typing ``./run.sh`` together: all finish, the store is created once, identical steps run once.

Before the store was created under a lock (``edgetpu_detector.tracking.store_init``), two drivers on a fresh
SQLite store both ran MLflow's schema migrations and one died (``duplicate column name: step``). Three of
the drivers here have the same settings (the step cache hands them one preprocess, retrain, convert and
evaluate: the later ones wait on the step's lock and reuse the FINISHED run); the fourth differs in
``eval_forms`` only, so its first three steps are shared and its evaluate is its own. Tiny settings
(64 px, 2 steps) keep it to a few minutes on 2 cores. The runs' artifacts go to the project's ``mlruns/``
(MLflow's default artifact root for a new SQLite store, relative to where ``mlflow run`` runs) and are
removed at the end.
"""
import os
import subprocess
import sys

from mlflow.tracking import MlflowClient
import pytest

from tests.pipeline.project_artifacts import PROJECT_DIR, remove_project_artifacts

pytestmark = pytest.mark.slow

STEPS = ("preprocess", "retrain", "convert", "evaluate")
TINY = ["-P", "image_size=64", "-P", "num_steps=2", "-P", "batch_size=2", "-P", "warmup_steps=1",
        "-P", "base_weights=none", "-P", "num_calibration_images=2", "-P", "num_workers=1",
        "-P", "checkpoint_every=1"]
DRIVERS = [TINY + ["-P", "eval_forms=int8_tflite"]] * 3 + [TINY + ["-P", "eval_forms=float_tflite"]]
TIMEOUT_S = 1500


@pytest.fixture(scope="module")
def four_drivers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("concurrent")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "concurrent",
           "PYTHON": sys.executable, "EDGETPU_DETECTOR_WORK_DIR": str(tmp / "work")}
    logs = [tmp / f"driver{i}.log" for i in range(len(DRIVERS))]
    procs = []
    for params, log in zip(DRIVERS, logs):
        with open(log, "wb") as out:
            procs.append(subprocess.Popen([str(PROJECT_DIR / "run.sh"), *params], cwd=tmp, env=env, stdout=out,
                                          stderr=subprocess.STDOUT))
    try:
        codes = [proc.wait(timeout=TIMEOUT_S) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("concurrent")
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    yield {"codes": codes, "outputs": [log.read_text(errors="replace") for log in logs], "client": client,
           "runs": runs}
    remove_project_artifacts(client, "concurrent")


def test_four_drivers_on_a_fresh_store_all_finish(four_drivers):
    for code, output in zip(four_drivers["codes"], four_drivers["outputs"]):
        assert code == 0, output[-4000:]
        assert "=== done ===" in output and "OperationalError" not in output
    runs = four_drivers["runs"]
    assert runs and all(run.info.status == "FINISHED" for run in runs), \
        [(r.info.run_name, r.info.status) for r in runs if r.info.status != "FINISHED"]


def test_every_parent_has_its_four_step_runs_and_shared_steps_ran_once(four_drivers):
    runs = {run.info.run_id: run for run in four_drivers["runs"]}
    parents = [run for run in runs.values() if "mlflow.parentRunId" not in run.data.tags]
    assert len(parents) == 4
    for parent in parents:
        for step in STEPS:
            child = runs[parent.data.tags[f"{step}_run_id"]]
            assert child.data.tags["mlflow.project.entryPoint"] == step
            assert child.data.tags["mlflow.parentRunId"] in {p.info.run_id for p in parents}
    by_step = {step: [r for r in runs.values() if r.data.tags.get("mlflow.project.entryPoint") == step]
               for step in STEPS}
    # The three identical drivers and the fourth share preprocess, retrain and convert; evaluate differs.
    assert {step: len(found) for step, found in by_step.items()} == \
        {"preprocess": 1, "retrain": 1, "convert": 1, "evaluate": 2}
    assert len(runs) == 4 + 5
    # 16 steps in all, 5 run: the other 11 were reused (after waiting on the lock, or once finished).
    assert sum(out.count(": reused run ") for out in four_drivers["outputs"]) == 16 - 5

"""Ctrl-C and SIGTERM during each step: the step's run ends KILLED and the pipeline's run KILLED or FAILED
(``mlflow run`` marks the run it launched FAILED after the driver ended it KILLED), both with the reason; the
console says how to resume, and the same command resumes.

One pipeline (tiny settings, the synthetic default data) is started five times with the same command, each
time in its own session (so that its process group is what a terminal's Ctrl-C reaches). Runs 1-4 are each
interrupted in one step, once its run is RUNNING in the store (the step has installed its signal handlers by
then): SIGINT to the whole process group during preprocess (a terminal's Ctrl-C), SIGTERM to the driver
process (``steps.main``) during retrain once a training checkpoint exists (MLflow then cancels the step with
SIGTERM), SIGINT to the step's process alone during convert, SIGTERM to the whole process group during
evaluate (``kill -TERM -- -<pgid>``, what container runtimes and service managers do). Each later run
reuses the steps that finished and resumes training from its checkpoint; the fifth finishes.
"""
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from mlflow.tracking import MlflowClient
import pytest

from tests.pipeline.project_artifacts import PROJECT_DIR, remove_project_artifacts

pytestmark = pytest.mark.slow

STEPS = ("preprocess", "retrain", "convert", "evaluate")
PARAMS = ["-P", "image_size=64", "-P", "num_steps=12", "-P", "batch_size=2", "-P", "warmup_steps=1",
          "-P", "base_weights=none", "-P", "num_calibration_images=2", "-P", "num_workers=1",
          "-P", "checkpoint_every=2", "-P", "eval_forms=int8_tflite", "-P", "seed=7"]
EXPERIMENT = "interrupts"
# (step, signal, whom): "group" the process group, "driver" python -m steps.main, "step" python -m steps.<step>.
PLAN = [("preprocess", signal.SIGINT, "group"), ("retrain", signal.SIGTERM, "driver"),
        ("convert", signal.SIGINT, "step"), ("evaluate", signal.SIGTERM, "group")]
TIMEOUT_S = 600


def _group_pids(pgid):
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def _python_pid(pgid, module):
    """The process of the group running ``python -m <module>``, or None."""
    for pid in _group_pids(pgid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"python" in argv[0] and b"-m" in argv and module.encode() in argv:
            return pid
    return None


class Store:
    def __init__(self, tmp):
        self.tmp = tmp
        self.uri = f"sqlite:///{tmp / 'mlflow.db'}"
        self.client = MlflowClient(self.uri)
        self.env = {**os.environ, "MLFLOW_TRACKING_URI": self.uri, "MLFLOW_EXPERIMENT_NAME": EXPERIMENT,
                    "PYTHON": sys.executable, "EDGETPU_DETECTOR_WORK_DIR": str(tmp / "work")}

    def runs(self, condition=""):
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        if experiment is None:
            return []
        return self.client.search_runs([experiment.experiment_id], filter_string=condition,
                                       order_by=["attributes.start_time DESC"])

    def running_step(self, step):
        found = self.runs(f"tags.`mlflow.project.entryPoint` = '{step}' and attributes.status = 'RUNNING'")
        return next((r for r in found if "cache_key" in r.data.tags), None)

    def pipeline(self, stop=None):
        """Run the pipeline; with ``stop`` = (step, signal, whom), interrupt it there. Returns (code, output)."""
        log = self.tmp / f"run{len(list(self.tmp.glob('run*.log')))}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(PROJECT_DIR / "run.sh"), *PARAMS], cwd=self.tmp, env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + TIMEOUT_S
        try:
            if stop is not None:
                step, sig, whom = stop
                while (run := self.running_step(step)) is None or (
                        step == "retrain" and not list((self.tmp / "work").glob("retrain-*/output/checkpoints/*.index"))):
                    assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-4000:]
                    time.sleep(0.2)
                if whom == "group":
                    os.killpg(proc.pid, sig)
                else:
                    pid = _python_pid(proc.pid, "steps.main" if whom == "driver" else f"steps.{step}")
                    assert pid is not None
                    os.kill(pid, sig)
            proc.wait(timeout=max(1, deadline - time.monotonic()))
            while _group_pids(proc.pid) and time.monotonic() < deadline:  # the driver may outlive mlflow's CLI
                time.sleep(0.2)
            assert not _group_pids(proc.pid), "processes left running after the interrupt"
        finally:
            if _group_pids(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
        return proc.returncode, log.read_text(errors="replace")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("interrupts"))
    yield store
    remove_project_artifacts(store.client, EXPERIMENT)


def test_each_step_interrupted_then_resumed(store):
    for number, (step, sig, whom) in enumerate(PLAN):
        code, output = store.pipeline((step, sig, whom))
        assert code != 0, output[-4000:]
        parent = [r for r in store.runs() if "mlflow.parentRunId" not in r.data.tags][0]
        children = {r.data.tags["mlflow.project.entryPoint"]: r
                    for r in store.runs(f"tags.mlflow.parentRunId = '{parent.info.run_id}'")}
        # The step interrupted last time runs again, then the ones after it up to this one; those before it
        # are reused from the earlier runs.
        since = STEPS.index(PLAN[number - 1][0]) if number else 0
        assert sorted(children, key=STEPS.index) == list(STEPS[since:STEPS.index(step) + 1]), \
            (step, list(children), output[-4000:])
        assert all(children[done].info.status == "FINISHED" for done in children if done != step)
        killed = children[step]
        reason = f"interrupted by {sig.name}" + (" (Ctrl-C)" if sig == signal.SIGINT else "")
        assert killed.info.status == "KILLED", (step, killed.info.status, output[-4000:])
        assert killed.data.tags["error"] == f"Interrupted: {reason}"
        assert killed.data.tags["error_type"] == "Interrupted"
        assert {f.path for f in store.client.list_artifacts(killed.info.run_id, "logs")} == {f"logs/{step}.log"}
        # The driver ends it KILLED; `mlflow run` (which launched the driver) then marks it FAILED.
        assert parent.info.status in ("KILLED", "FAILED"), (parent.info.status, output[-4000:])
        assert parent.data.tags["error"] == f"step {step} interrupted: Interrupted: {reason}"
        assert parent.data.tags["failed_step"] == step
        assert f"=== {step} INTERRUPTED: Interrupted: {reason} ===" in output
        assert "Run the same command again to resume" in output
        for earlier in STEPS[:since]:
            assert f"=== {earlier}: reused run " in output
        if step == "convert":  # the retrain run after the interrupted one resumed from its checkpoint
            assert "retrain: resuming from " in output
    code, output = store.pipeline()
    assert code == 0, output[-4000:]
    assert "=== done ===" in output
    for earlier in STEPS[:3]:
        assert f"=== {earlier}: reused run " in output
    assert not store.runs("attributes.status = 'RUNNING'")

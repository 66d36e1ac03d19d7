"""Running the project's steps as MLflow child runs: reuse from the step cache, resume, record failures.

``StepRunner.run`` either reuses a FINISHED run with the same cache key (``edgetpu_detector.tracking.step_cache``) or launches the
entry point with ``mlflow.run(..., env_manager="local")`` as a child of the active run. Each launched step
gets a work folder named after its key (``<work root>/<step>-<key[:16]>``) holding its log file and, for
``retrain``, the training folder with its checkpoints: a step that dies leaves them there, and the next
driver run with the same inputs resumes from them; a step that finishes has its folder removed (everything
in it is in MLflow by then). Drivers running at the same time (on one machine) never run the same step with
the same key twice at once: the second waits on the first's lock (an empty file,
``<work root>/.locks/<step>-<key[:16]>.lock``, apart from the work folders), then reuses its run when it
FINISHED, or runs the step itself (resuming from the checkpoints left) when it did not.
"""
from dataclasses import dataclass, field
import datetime
import json
import os
from pathlib import Path
import shutil
import time

import mlflow
from mlflow.projects import ExecutionException
from mlflow.tracking import MlflowClient

from edgetpu_detector.core.file_lock import file_lock
from edgetpu_detector.core.interrupts import interruption_of
from edgetpu_detector.core.paths import cache_root
from edgetpu_detector.tracking.failures import (ERROR_TAG, ERROR_TYPE_TAG, STEP_LOG_ENV, STEP_TAGS_ENV,
                                                record_step_failure)
from edgetpu_detector.tracking.parameters import entry_point_parameters, normalize_parameters
from edgetpu_detector.tracking.step_cache import (
    CACHE_KEY_TAG,
    CODE_HASH_TAG,
    cache_key,
    code_version,
    find_reusable_run,
    input_fingerprints,
)

WORK_DIR_ENV = "EDGETPU_DETECTOR_WORK_DIR"
# Steps that get a persistent folder through this parameter (resume after a crash).
OUTPUT_DIR_PARAMETER = {"retrain": "output_dir"}


def default_work_root():
    """``$EDGETPU_DETECTOR_WORK_DIR``, else ``<cache root>/steps`` (``edgetpu_detector.core.paths``)."""
    if os.environ.get(WORK_DIR_ENV):
        return Path(os.environ[WORK_DIR_ENV]).expanduser()
    return cache_root() / "steps"


class StepFailed(RuntimeError):
    """A step's run did not finish; ``entry_point``, ``run_id``, ``error`` (text on the run) and
    ``log_path`` (local log file or None) say which and why."""

    def __init__(self, entry_point, run_id, error, log_path=None):
        super().__init__(f"step {entry_point} (run {run_id}) failed: {error}")
        self.entry_point, self.run_id, self.error, self.log_path = entry_point, run_id, error, log_path


class StepInterrupted(KeyboardInterrupt):
    """The driver was interrupted (SIGINT / SIGTERM) while a step ran; the step's run (``run_id``, None when
    it had not started) ended KILLED with ``error``. Attributes as ``StepFailed``."""

    def __init__(self, entry_point, run_id, error, log_path=None):
        super().__init__(f"step {entry_point} (run {run_id}) interrupted: {error}")
        self.entry_point, self.run_id, self.error, self.log_path = entry_point, run_id, error, log_path


@dataclass
class StepResult:
    """``run_id`` of the step's FINISHED run and whether it was ``reused`` from the cache."""

    entry_point: str
    run_id: str
    reused: bool


@dataclass
class StepRunner:
    """Runs entry points of the project in ``project_dir`` as children of the active MLflow run.

    Attributes:
      experiment_id: where step runs are created and looked up.
      force: entry points to rerun even when a cached run exists.
      work_root: parent of the steps' work folders (default ``default_work_root()``).
    """

    project_dir: Path
    experiment_id: str
    force: frozenset = frozenset()
    work_root: Path = None
    client: MlflowClient = field(default_factory=MlflowClient)

    def __post_init__(self):
        self.project_dir = Path(self.project_dir)
        self.work_root = Path(self.work_root) if self.work_root else default_work_root()
        self.code = code_version(self.project_dir)

    def key(self, entry_point, parameters, upstream):
        """The cache key of ``entry_point`` with ``parameters`` (``{name: value}``) and ``upstream``
        (``{parameter: run id}``)."""
        declared = entry_point_parameters(self.project_dir, entry_point)
        normalized = normalize_parameters(parameters, declared)
        return cache_key(entry_point, normalized, self.code, upstream, input_fingerprints(parameters, declared))

    def run(self, entry_point, parameters, upstream=None):
        """Reuse or run one step; return its ``StepResult``.

        Raises:
          StepFailed: the step's process failed or was killed (its run is then FAILED, with ``error``
            tags and ``logs/<step>.log``).
          StepInterrupted: SIGINT or SIGTERM reached the driver while the step ran; MLflow cancelled the step
            (its run KILLED, with the reason and its log).
        """
        upstream = dict(upstream or {})
        key = self.key(entry_point, parameters, upstream)
        cached = self._reusable(entry_point, key)
        if cached is not None:
            return cached
        work = self.work_root / f"{entry_point}-{key[:16]}"
        lock = self.work_root / ".locks" / f"{work.name}.lock"

        def waiting():
            print(f"\n=== {entry_point}: waiting for another process running the same step (same parameters, "
                  f"code and inputs; lock {lock}) ===", flush=True)

        # One process at a time runs a given step with a given key (the others wait, then reuse its run):
        # they would share the work folder and its checkpoints.
        with file_lock(lock, on_wait=waiting) as free:
            cached = None if free else self._reusable(entry_point, key)
            if cached is not None:
                return cached
            return self._launch(entry_point, parameters, upstream, key, work)

    def _reusable(self, entry_point, key):
        """The ``StepResult`` of a FINISHED run with ``key`` (announced on the console), or None (also when
        ``entry_point`` is forced)."""
        if entry_point in self.force:
            return None
        cached = find_reusable_run(self.client, self.experiment_id, key)
        if cached is None:
            return None
        ended = datetime.datetime.fromtimestamp(cached.info.end_time / 1000).strftime("%Y-%m-%d %H:%M")
        print(f"\n=== {entry_point}: reused run {cached.info.run_id} (finished {ended}; same "
              f"parameters, code and inputs) ===", flush=True)
        return StepResult(entry_point, cached.info.run_id, reused=True)

    def _launch(self, entry_point, parameters, upstream, key, work):
        """Run ``entry_point`` in a new child run with its work folder ``work`` (see ``run``)."""
        print(f"\n=== {entry_point} ===", flush=True)
        work.mkdir(parents=True, exist_ok=True)
        log_path = work / f"{entry_point}.log"
        launch = {**parameters, **upstream}
        if entry_point in OUTPUT_DIR_PARAMETER:
            launch[OUTPUT_DIR_PARAMETER[entry_point]] = str(work / "output")
        step_env = {STEP_LOG_ENV: str(log_path),
                    STEP_TAGS_ENV: json.dumps({CACHE_KEY_TAG: key, CODE_HASH_TAG: self.code.content_hash})}
        saved = {name: os.environ.pop(name, None) for name in (*step_env, "MLFLOW_EXPERIMENT_NAME")}
        os.environ.update(step_env)  # the step's process inherits them; the experiment is passed by id
        since = int(time.time() * 1000) - 1000
        try:
            mlflow.run(str(self.project_dir), entry_point=entry_point, parameters=launch, env_manager="local",
                       experiment_id=self.experiment_id, synchronous=True, run_name=entry_point)
        except (ExecutionException, KeyboardInterrupt) as failure:
            interrupted = interruption_of(failure)
            run = self._launched_run(key, entry_point, since)
            if run is None:
                if interrupted:
                    raise StepInterrupted(entry_point, None, interrupted, log_path) from None
                raise
            if interrupted is None and run.data.tags.get(ERROR_TYPE_TAG) == "Interrupted":
                # The signal reached the step alone (it recorded it); MLflow then marked the run FAILED.
                interrupted = run.data.tags.get(ERROR_TAG, "").removeprefix("Interrupted: ")
            error = record_step_failure(self.client, run.info.run_id, entry_point, log_path, interrupted)
            if interrupted:
                raise StepInterrupted(entry_point, run.info.run_id, error, log_path) from None
            raise StepFailed(entry_point, run.info.run_id, error, log_path) from None
        finally:
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value
        run = self._launched_run(key, entry_point, since)
        shutil.rmtree(work, ignore_errors=True)
        return StepResult(entry_point, run.info.run_id, reused=False)

    def _launched_run(self, key, entry_point, since_ms):
        """The run just launched: the newest run started since ``since_ms`` with cache key ``key``, or (a
        step that died before tagging itself) the newest such child of the active run for ``entry_point``."""
        recent = f"attributes.start_time >= {since_ms}"
        for condition in (f"tags.{CACHE_KEY_TAG} = '{key}'",
                          f"tags.mlflow.parentRunId = '{mlflow.active_run().info.run_id}' and "
                          f"tags.mlflow.project.entryPoint = '{entry_point}'"):
            runs = self.client.search_runs([self.experiment_id], filter_string=f"{condition} and {recent}",
                                           order_by=["attributes.start_time DESC"], max_results=1)
            if runs:
                return runs[0]
        return None

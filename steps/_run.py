"""The MLflow run each step works in, and the artifacts it takes from the steps before it."""
from contextlib import contextmanager
import json
import os
from pathlib import Path
import tempfile
import traceback

import mlflow

from edgetpu_detector.core.disk import DiskFull, free_bytes, is_disk_full
from edgetpu_detector.core.interrupts import interruption_of, raise_on_signals
from edgetpu_detector.tracking.datasets import log_dataset_input
from edgetpu_detector.tracking.failures import (ERROR_TAG, ERROR_TYPE_TAG, LOG_ARTIFACTS, STEP_LOG_ENV, STEP_TAGS_ENV,
                                                error_tags)
from edgetpu_detector.tracking.step_log import tee_output
from edgetpu_detector.tracking.store import (DATA_ARTIFACTS, EXPORT_ARTIFACTS, MODEL_ARTIFACTS, download_artifacts,
                                             ensure_tracking_uri)


def _failed(error):
    return not (isinstance(error, SystemExit) and error.code in (None, 0))


@contextmanager
def step_run(entry_point):
    """Open the step's MLflow run (the one ``mlflow run`` created, or a new one) and a scratch folder.

    The console output is also written to ``logs/<entry_point>.log`` of the run (to the file named by
    ``$EDGETPU_DETECTOR_STEP_LOG`` when the driver sets it, so that the log of a killed step survives). An
    exception leaving the block marks the run FAILED with tags ``error`` (type and message) and
    ``error_type``, and its traceback goes into the log; a full disk is ``DiskFull`` (``edgetpu_detector.core.disk``:
    one line naming the path, the free space and the space needed). SIGINT (Ctrl-C) or SIGTERM marks it KILLED with
    ``error`` ``Interrupted: interrupted by SIGTERM`` and ``error_type`` ``Interrupted``
    (``edgetpu_detector.core.interrupts``).

    Yields:
      Path of a temporary folder, removed afterwards (artifacts are logged from it before then).
    """
    raise_on_signals()
    ensure_tracking_uri()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(os.environ.get(STEP_LOG_ENV) or Path(tmp) / f"{entry_point}.log")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with tee_output(log_path) as write_log_only, mlflow.start_run():
            if os.environ.get(STEP_TAGS_ENV):  # set by the driver: the cache key, first of all
                mlflow.set_tags(json.loads(os.environ[STEP_TAGS_ENV]))
            work = Path(tmp) / "work"
            work.mkdir()
            interrupted = None
            try:
                yield work
            except BaseException as error:
                interrupted = interruption_of(error)  # SIGINT or SIGTERM (edgetpu_detector.core.interrupts)
                if interrupted:
                    if not isinstance(error, KeyboardInterrupt):  # the signal surfaced as another error
                        write_log_only(traceback.format_exc())
                    print(f"\n{entry_point}: {interrupted}; run the same command again to resume", flush=True)
                    mlflow.set_tags({ERROR_TAG: f"Interrupted: {interrupted}", ERROR_TYPE_TAG: "Interrupted"})
                    raise
                if _failed(error):
                    write_log_only(traceback.format_exc())
                    if is_disk_full(error) and not isinstance(error, DiskFull):  # a write no guard named
                        path = getattr(error, "filename", None) or tmp
                        full = DiskFull(path, free_bytes(path))
                        mlflow.set_tags(error_tags(full))
                        raise full from error
                    mlflow.set_tags(error_tags(error))
                raise
            finally:
                try:
                    mlflow.log_artifact(str(log_path), artifact_path=LOG_ARTIFACTS)
                except Exception as error:  # never hide the step's own error behind a failed upload
                    print(f"{entry_point}: could not upload its log: {error}", flush=True)
                if interrupted:
                    mlflow.end_run("KILLED")


def fetch_inputs(tmp, data_run_id, model_run_id=None, context="training"):
    """Download the preprocess run's ``data/`` (and the retrain run's ``model/``) into ``tmp/input``, and
    record them on the active run: tags ``data_run_id``, ``model_run_id``, ``dataset_fingerprint`` and the
    dataset as an input with ``context`` (the UI's *Datasets* column).

    Returns:
      (data_dir, model_dir or None) as Paths.
    """
    data = download_artifacts(data_run_id, DATA_ARTIFACTS, tmp / "input")
    model = download_artifacts(model_run_id, MODEL_ARTIFACTS, tmp / "input") if model_run_id else None
    tags = {"data_run_id": data_run_id, **({"model_run_id": model_run_id} if model_run_id else {})}
    source_tags = mlflow.get_run(data_run_id).data.tags
    if "dataset_fingerprint" in source_tags:
        tags["dataset_fingerprint"] = source_tags["dataset_fingerprint"]
        name = source_tags.get("dataset_name", "dataset")
        log_dataset_input(name, source_tags["dataset_fingerprint"], f"runs:/{data_run_id}/{DATA_ARTIFACTS}", context)
    mlflow.set_tags(tags)
    return data, model


def fetch_exports(tmp, convert_run_id):
    """Download the convert run's ``export/`` into ``tmp/input``, tag the active run with ``convert_run_id``
    and return the local folder (Path)."""
    exports = download_artifacts(convert_run_id, EXPORT_ARTIFACTS, tmp / "input")
    mlflow.set_tag("convert_run_id", convert_run_id)
    return exports


def output_folder(path_text, default):
    """The folder a step writes into: ``path_text`` (expanded) when given, else ``default``."""
    return Path(path_text).expanduser() if str(path_text).strip() else Path(default)

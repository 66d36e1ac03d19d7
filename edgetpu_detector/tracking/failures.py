"""What a failed step leaves in MLflow: its run FAILED, the error as tags, its log as an artifact.

A step that raises records this itself (``steps._cli.step_run``). A step that cannot, because it was killed
(``kill -9``, out of memory), is recorded by the driver from the run's state and the log file it asked the
step to write (``$EDGETPU_DETECTOR_STEP_LOG``).
"""
from edgetpu_detector.tracking.redact import redact

STEP_LOG_ENV = "EDGETPU_DETECTOR_STEP_LOG"
STEP_TAGS_ENV = "EDGETPU_DETECTOR_STEP_TAGS"  # JSON {tag: value} the step sets on its run as it starts
LOG_ARTIFACTS = "logs"
ERROR_TAG = "error"
ERROR_TYPE_TAG = "error_type"
MAX_TAG_LENGTH = 5000  # MLflow's limit on a tag value is 8000 characters; stay well below


def error_tags(error):
    """``{"error": "<Type>: <message>", "error_type": "<Type>"}`` for an exception (secrets masked,
    at most 5000 characters)."""
    if isinstance(error, SystemExit) and not isinstance(error.code, int):
        kind, message = "SystemExit", str(error.code)
    else:
        kind, message = type(error).__name__, str(error)
    text = redact(f"{kind}: {message}" if message else kind)
    return {ERROR_TAG: text[:MAX_TAG_LENGTH], ERROR_TYPE_TAG: kind}


def record_step_failure(client, run_id, entry_point, log_path=None, interrupted=None):
    """Make a failed step's run say so, filling in what the step could not record itself.

    Ends the run FAILED unless it already FAILED or was KILLED, sets ``error`` / ``error_type`` when
    the step did not (``ERROR_TYPE_TAG`` ``Killed``: only a process that died without running Python's exception
    handling leaves no error, i.e. one killed by a signal such as SIGKILL or the out-of-memory killer, or
    crashed in native code), and uploads ``log_path`` as ``logs/<entry_point>.log`` when the run has no log yet.

    Args:
      client: ``mlflow.tracking.MlflowClient``.
      log_path: the step's log file (Path) or None.
      interrupted: for a step stopped by SIGINT / SIGTERM, what stopped it (``interrupted by SIGTERM``):
        the run ends KILLED, and when the step recorded no error it gets ``Interrupted: <interrupted>``.

    Returns:
      The error text (str) now on the run.
    """
    run = client.get_run(run_id)
    tags = run.data.tags
    error = tags.get(ERROR_TAG)
    if error is None and interrupted:
        error = f"Interrupted: {interrupted}"
        client.set_tag(run_id, ERROR_TAG, error)
        client.set_tag(run_id, ERROR_TYPE_TAG, "Interrupted")
    elif error is None:
        error = (f"{entry_point} step killed or crashed before it could record an error (a signal such as "
                 "SIGKILL, the out-of-memory killer, or a crash in native code)")
        client.set_tag(run_id, ERROR_TAG, error)
        client.set_tag(run_id, ERROR_TYPE_TAG, "Killed")
    logged = {f.path for f in client.list_artifacts(run_id, LOG_ARTIFACTS)}
    if log_path is not None and log_path.is_file() and f"{LOG_ARTIFACTS}/{log_path.name}" not in logged:
        client.log_artifact(run_id, str(log_path), artifact_path=LOG_ARTIFACTS)
    if interrupted:
        # Also over FAILED: ``mlflow.run`` marks a cancelled run FAILED even when the step ended it KILLED
        # (its check of the run's state compares the status name with status numbers, so it never matches).
        if run.info.status != "KILLED":
            client.set_terminated(run_id, "KILLED")
    elif run.info.status in ("RUNNING", "SCHEDULED", "FINISHED"):  # FINISHED, then crashed: not reusable
        client.set_terminated(run_id, "FAILED")
    return error

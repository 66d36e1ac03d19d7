"""Logging artifacts with a clear error when the artifact store's disk is full.

``log_artifacts`` logs a file or a folder to the active run like ``mlflow.log_artifact(s)``; for a local
artifact store it first checks that the filesystem has room for it, and on a full disk it raises
``edgetpu_detector.core.disk.DiskFull`` (naming the destination, the free space and the size needed) and
removes what it had copied, so that the failed run holds no half-written artifact.
"""
from pathlib import Path
import shutil

import mlflow

from edgetpu_detector.core.disk import check_free_space, disk_full_guard, folder_size
from edgetpu_detector.tracking.store import artifact_local_path


def log_artifacts(local_path, artifact_path=None):
    """Log the file or folder ``local_path`` under ``artifact_path`` of the active run.

    Raises:
      DiskFull: the artifact store's filesystem (local stores) or the local one lacks the space.
      mlflow.exceptions.MlflowException: any other failure of the store.
    """
    local_path = Path(local_path)
    needed = folder_size(local_path)
    run_id = mlflow.active_run().info.run_id
    root = artifact_local_path(run_id, artifact_path or "")
    destination = root / local_path.name if root is not None and local_path.is_file() else root
    if root is not None:
        check_free_space(root, needed)
    try:
        with disk_full_guard(destination or local_path, needed):
            if local_path.is_dir():
                mlflow.log_artifacts(str(local_path), artifact_path=artifact_path)
            else:
                mlflow.log_artifact(str(local_path), artifact_path=artifact_path)
    except BaseException:
        if destination is not None and artifact_path:  # only what this call wrote, never the run's root
            if destination.is_dir():
                shutil.rmtree(destination, ignore_errors=True)
            elif destination.exists():
                destination.unlink()
        raise

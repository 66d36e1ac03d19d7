"""Create the tracking store and the experiment before ``mlflow run`` (``run.sh`` calls this).

``python -m tools.init_store [experiment name]``: the store is ``$MLFLOW_TRACKING_URI``; the experiment is the
argument, else ``$MLFLOW_EXPERIMENT_NAME``, else none. Safe to run from many processes at once
(``edgetpu_detector.tracking.store_init``).
"""
import os
import sys

from edgetpu_detector.tracking.store_init import initialize_store


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise SystemExit("init_store: MLFLOW_TRACKING_URI is not set")
    name = argv[0] if argv else os.environ.get("MLFLOW_EXPERIMENT_NAME")
    initialize_store(uri, name or None)


if __name__ == "__main__":
    main()

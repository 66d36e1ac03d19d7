"""Creating a tracking store and its experiment once, however many processes start on it at the same moment.

MLflow creates the tables of a new SQLite store (running its schema migrations) in whichever process opens it
first, without a lock: two processes starting together on a store that does not exist yet both migrate it and
one dies (``sqlite3.OperationalError: duplicate column name: step``). Likewise ``mlflow run
--experiment-name`` creates a missing experiment without a lock, and the second creator fails.
``initialize_store`` does both under an exclusive file lock beside the database (``<db>.lock``), so exactly one
process creates the tables and the experiment and the others find them; ``run.sh`` calls it
(``python -m tools.init_store``) before ``mlflow run``, and every step calls it through ``ensure_tracking_uri``.
For other stores (a tracking server, a database server) only the experiment is created, tolerating a
concurrent creator.
"""
import contextlib
from pathlib import Path
from urllib.parse import unquote

from edgetpu_detector.core.file_lock import file_lock

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(uri):
    """The database file of a ``sqlite:///`` URI (Path), or None for any other URI (or in-memory SQLite)."""
    if not uri or not uri.startswith(SQLITE_PREFIX):
        return None
    text = unquote(uri[len(SQLITE_PREFIX):].split("?", 1)[0])
    if not text or text == ":memory:":
        return None
    return Path(text)


def store_lock_path(uri):
    """The lock file guarding the creation of the SQLite store at ``uri`` (``<db>.lock``), or None."""
    path = sqlite_path(uri)
    return None if path is None else path.with_name(path.name + ".lock")


def ensure_experiment(client, name):
    """The id of experiment ``name``, created when missing; a concurrent creator's experiment is taken.

    Args:
      client: ``mlflow.tracking.MlflowClient`` of the store.
    """
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException:  # RESOURCE_ALREADY_EXISTS: another process created it in between
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def initialize_store(uri, experiment_name=None):
    """Make sure the store at ``uri`` exists with all of MLflow's tables and, when given, the experiment
    ``experiment_name``; for a SQLite file this happens under an exclusive file lock (``<db>.lock``).

    Returns:
      The experiment id, or None when no ``experiment_name`` was given.

    Raises:
      OSError: the database's folder cannot be created or the lock file cannot be opened (the message
        names the path).
    """
    from mlflow.tracking import MlflowClient

    lock = store_lock_path(uri)
    if lock is not None:
        lock.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock) if lock is not None else contextlib.nullcontext():
        client = MlflowClient(uri)  # opening a SQLite store creates its tables when missing
        client.search_experiments(max_results=1)
        return ensure_experiment(client, experiment_name) if experiment_name else None

"""SIGINT (Ctrl-C) and SIGTERM as one exception, so that a process stopped either way records why.

By default SIGTERM ends a Python process at once, without ``finally`` blocks or exception handlers, and a
second signal arriving while the first is being handled (a terminal's Ctrl-C reaches every process of the
pipeline, and MLflow then sends SIGTERM to the step it cancels) interrupts the handler itself.
``raise_on_signals`` makes the first of either signal raise ``Interrupted`` (a ``KeyboardInterrupt``) in the
main thread, and ignores both from then on so that the process can record what happened and exit.

A signal that lands inside a tracking-store call (MLflow's tracking and registry stores, SQLAlchemy, Alembic;
not artifact copies) is held back until the call returns (at most ``STORE_DEFER_S``): raised there, it would
leave the store's database session half-done, and the step could then no longer mark its run KILLED (it ended
FAILED with a SQLAlchemy error instead).
"""
import os
import signal
import threading
import time

SIGNALS = (signal.SIGINT, signal.SIGTERM)
STORE_MODULES = ("mlflow.store.tracking", "mlflow.store.db", "mlflow.store.model_registry", "sqlalchemy", "alembic")
STORE_DEFER_S = 10.0  # longest a signal waits for a store call to return
RETRY_S = 0.05  # how soon a held-back signal is delivered again
_pending = {}  # the first signal held back: its name and when it came
_raised = {}  # the signal raised as Interrupted in this process: its name


class Interrupted(KeyboardInterrupt):
    """The process received ``signal_name`` (``"SIGINT"`` or ``"SIGTERM"``)."""

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name

    def __str__(self):
        return f"interrupted by {self.signal_name}" + (" (Ctrl-C)" if self.signal_name == "SIGINT" else "")


def in_store_call(frame):
    """True when ``frame`` or a caller of it runs code of ``STORE_MODULES``."""
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(STORE_MODULES):
            return True
        frame = frame.f_back
    return False


def _raise(signum, frame):
    name = _pending.setdefault("name", signal.Signals(signum).name)
    since = _pending.setdefault("since", time.monotonic())
    if in_store_call(frame) and time.monotonic() - since < STORE_DEFER_S:
        retry = threading.Timer(RETRY_S, os.kill, (os.getpid(), signum))
        retry.daemon = True
        retry.start()
        return
    for number in SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    _pending.clear()
    _raised["name"] = name
    raise Interrupted(name)


def raise_on_signals():
    """Make the first SIGINT or SIGTERM raise ``Interrupted`` in the main thread; later ones are ignored.

    Call from the main thread (``signal.signal``'s rule). Processes started later get the default
    handlers back (``exec`` resets a handler), unless the signals are ignored by then (after the first).
    A signal that lands inside a tracking-store call is raised once the call has returned.
    """
    _pending.clear()
    _raised.clear()
    for number in SIGNALS:
        signal.signal(number, _raise)


def interruption_of(error):
    """What stopped the process when ``error`` ends it because of a signal, else None.

    ``Interrupted`` (or a plain ``KeyboardInterrupt``) gives its text; so does any other exception once a
    signal has been raised as ``Interrupted`` in this process: raised inside code that turns exceptions into
    its own, the signal can surface as another error (an extension module whose import it broke raises
    ``ImportError: initialization failed``), and the run must still say it was interrupted.

    Args:
      error: the BaseException leaving the step.

    Returns:
      str (``interrupted by SIGTERM``, ``interrupted by SIGINT (Ctrl-C)``) or None.
    """
    if isinstance(error, KeyboardInterrupt):
        return interruption_text(error)
    if "name" in _raised:
        return str(Interrupted(_raised["name"]))
    return None


def interruption_text(error):
    """What stopped the process, for a run's ``error`` tag: ``Interrupted``'s text, or ``interrupted by
    SIGINT (Ctrl-C)`` for a plain ``KeyboardInterrupt``."""
    return str(error) if isinstance(error, Interrupted) else str(Interrupted("SIGINT"))

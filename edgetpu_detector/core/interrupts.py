"""SIGINT (Ctrl-C) and SIGTERM as one exception, so that a process stopped either way records why.

By default SIGTERM ends a Python process at once, without ``finally`` blocks or exception handlers, and a
second signal arriving while the first is being handled (a terminal's Ctrl-C reaches every process of the
pipeline, and MLflow then sends SIGTERM to the step it cancels) interrupts the handler itself.
``raise_on_signals`` makes the first of either signal raise ``Interrupted`` (a ``KeyboardInterrupt``) in the
main thread, and ignores both from then on so that the process can record what happened and exit.
"""
import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process received ``signal_name`` (``"SIGINT"`` or ``"SIGTERM"``)."""

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name

    def __str__(self):
        return f"interrupted by {self.signal_name}" + (" (Ctrl-C)" if self.signal_name == "SIGINT" else "")


def _raise(signum, frame):
    for number in SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise Interrupted(signal.Signals(signum).name)


def raise_on_signals():
    """Make the first SIGINT or SIGTERM raise ``Interrupted`` in the main thread; later ones are ignored.

    Call from the main thread (``signal.signal``'s rule). Processes started later get the default
    handlers back (``exec`` resets a handler), unless the signals are ignored by then (after the first).
    """
    for number in SIGNALS:
        signal.signal(number, _raise)


def interruption_text(error):
    """What stopped the process, for a run's ``error`` tag: ``Interrupted``'s text, or ``interrupted by
    SIGINT (Ctrl-C)`` for a plain ``KeyboardInterrupt``."""
    return str(error) if isinstance(error, Interrupted) else str(Interrupted("SIGINT"))

"""Signals as ``Interrupted``: raised in the main thread, held back while a tracking-store call runs (real
signals sent to this process; the store call is code run under an MLflow store module's name)."""
import os
import signal
import time

import pytest

from edgetpu_detector.core.interrupts import STORE_MODULES, Interrupted, interruption_of, raise_on_signals

STORE_CALL = """
def store_call(seconds):
    os.kill(os.getpid(), signal.SIGINT)
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # busy: the handler runs between these bytecodes
        pass
    return "committed"
"""


@pytest.fixture
def handlers():
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    raise_on_signals()
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def _wait(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_signal_raises_interrupted_and_later_ones_are_ignored(handlers):
    with pytest.raises(Interrupted, match="interrupted by SIGTERM$"):
        os.kill(os.getpid(), signal.SIGTERM)
        _wait(2.0)
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    os.kill(os.getpid(), signal.SIGINT)  # ignored now
    _wait(0.2)


def test_a_signal_inside_a_store_call_waits_for_it_to_return(handlers):
    namespace = {"__name__": f"{STORE_MODULES[0]}.sqlalchemy_store", "os": os, "signal": signal, "time": time}
    exec(compile(STORE_CALL, "store_call", "exec"), namespace)
    returned = None
    with pytest.raises(Interrupted, match=r"interrupted by SIGINT \(Ctrl-C\)"):
        returned = namespace["store_call"](0.5)  # 10 re-deliveries of the signal land inside it
        _wait(2.0)
    assert returned == "committed"


def _import_extension():
    """Code that turns any exception into its own, as CPython does when a signal's exception interrupts an
    extension module's initialization."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        _wait(2.0)
    except BaseException:
        raise ImportError("initialization failed") from None


def test_a_signal_that_surfaces_as_another_error_is_still_an_interruption(handlers):
    assert interruption_of(ImportError("initialization failed")) is None  # no signal yet: a plain error
    with pytest.raises(ImportError, match="initialization failed") as caught:
        _import_extension()
    assert interruption_of(caught.value) == "interrupted by SIGTERM"
    assert interruption_of(Interrupted("SIGINT")) == "interrupted by SIGINT (Ctrl-C)"
    raise_on_signals()  # a new start forgets it
    assert interruption_of(ImportError("initialization failed")) is None

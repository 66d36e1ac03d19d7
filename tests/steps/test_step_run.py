"""The run a step works in ends KILLED with ``Interrupted: ...`` when a signal stops the step, also when the
signal surfaced as another error (a real SIGTERM sent to this process inside code that turns exceptions into
an ``ImportError``, as an interrupted extension-module import does)."""
import os
import signal
import time

import pytest

from steps._run import step_run


@pytest.fixture
def store(local_store):
    """The local store (tests/steps/conftest.py); the signal handlers a step installs are restored after."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield local_store
    for number, handler in saved.items():
        signal.signal(number, handler)


def _broken_import():
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            pass
    except BaseException:
        raise ImportError("initialization failed") from None


def _only_run(client, experiment):
    (run,) = client.search_runs([experiment])
    return run


def test_a_signal_surfacing_as_another_error_ends_the_run_killed(store):
    client, experiment = store
    with pytest.raises(ImportError, match="initialization failed"):
        with step_run("retrain"):
            _broken_import()
    run = _only_run(client, experiment)
    assert run.info.status == "KILLED"
    assert run.data.tags["error"] == "Interrupted: interrupted by SIGTERM"
    assert run.data.tags["error_type"] == "Interrupted"


def test_a_plain_error_ends_the_run_failed(store):
    client, experiment = store
    with pytest.raises(ImportError, match="initialization failed"):
        with step_run("retrain"):
            raise ImportError("initialization failed")
    run = _only_run(client, experiment)
    assert run.info.status == "FAILED"
    assert run.data.tags["error_type"] == "ImportError"

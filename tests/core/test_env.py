"""The process environment for TensorFlow: oneDNN on, and TensorFlow's start-up quiet at the default log level."""
import os
from pathlib import Path
import subprocess
import sys

from edgetpu_detector.core.env import filter_startup_log

ROOT = Path(__file__).resolve().parents[2]
NOTICE = b"oneDNN custom operations are on"
PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
# What TF 2.21 writes to stderr while it loads (absl before its initialization: any level goes to stderr).
STARTUP = (PREAMBLE + b"I0000 00:00:1796103847.169708   30838 port.cc:153] " + NOTICE + b". You may see ...\n"
           + b"W0000 00:00:1796103847.2 30838 cuda_executor.cc:1] a warning\n"
           + b"Traceback (most recent call last): kept\n")


def test_filter_drops_the_absl_lines_below_the_level_and_keeps_the_rest():
    assert filter_startup_log(STARTUP, 0) == STARTUP
    assert filter_startup_log(STARTUP, 1) == (b"W0000 00:00:1796103847.2 30838 cuda_executor.cc:1] a warning\n"
                                              b"Traceback (most recent call last): kept\n")
    assert filter_startup_log(STARTUP, 3) == b"Traceback (most recent call last): kept\n"
    assert filter_startup_log(b"partial line without newline", 3) == b"partial line without newline"


def _import_tensorflow(**env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")}
    code = ("import edgetpu_detector.core.env, sys; print('before', file=sys.stderr, flush=True); "
            "import tensorflow; from tensorflow.python.util import _pywrap_util_port as port; "
            "print('after', file=sys.stderr); print(port.IsMklEnabled())")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**environment, **env}, capture_output=True,
                          timeout=300)


def test_tensorflow_starts_quietly_with_onednn_on():
    quiet = _import_tensorflow()
    assert quiet.returncode == 0 and quiet.stdout.strip() == b"True"  # oneDNN kernels on (TF's default)
    assert quiet.stderr == b"before\nafter\n"
    loud = _import_tensorflow(TF_CPP_MIN_LOG_LEVEL="0")  # what is filtered is there when asked for
    assert NOTICE in loud.stderr and loud.stderr.startswith(b"before\n")

"""Process environment for TensorFlow: import this module before TensorFlow to keep its start-up quiet.

TF 2.21 prints C++ INFO/WARNING lines on every start; ``TF_CPP_MIN_LOG_LEVEL`` (3 unless the user set it)
silences those logged after TensorFlow has set up its logging. A few are logged while its libraries load, before
that: TensorFlow then logs through absl, which writes everything to stderr until it is initialized, whatever the
level -- among them the oneDNN notice ("oneDNN custom operations are on ...", twice). This module applies
``TF_CPP_MIN_LOG_LEVEL`` to those too: the first ``import tensorflow`` runs with stderr (file descriptor 2)
captured, and what it wrote is replayed without the absl-format lines below that level. oneDNN itself stays on
(TensorFlow's default on x86: it trains about 1.7 times faster here, see README, Training speed);
``TF_ENABLE_ONEDNN_OPTS=0`` still turns it off. MLflow's per-file download bars are turned off.
"""
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# absl's line prefix (absl/log/internal/log_format.cc): severity letter, MMDD, time (before absl is initialized:
# 00:00:<seconds since 1970>), thread id, file:line]
_ABSL_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ :]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITIES = b"IWEF"


def _min_log_level():
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def filter_startup_log(text, min_level):
    """``text`` (bytes written to stderr) without the absl log lines of severity below ``min_level`` (0 INFO,
    1 WARNING, 2 ERROR, as ``TF_CPP_MIN_LOG_LEVEL``) and, when ``min_level`` >= 1, without absl's preamble
    line; every other byte is kept in order."""
    kept = []
    for line in text.splitlines(keepends=True):
        match = _ABSL_LINE.match(line)
        if match and _SEVERITIES.index(match.group(1)) < min_level:
            continue
        if min_level >= 1 and line.rstrip(b"\r\n") == _ABSL_PREAMBLE:
            continue
        kept.append(line)
    return b"".join(kept)


def _exec_with_filtered_stderr(exec_module, module):
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            exec_module(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = filter_startup_log(captured.read(), _min_log_level())
            if text:
                os.write(2, text)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders, and has its loader run it with stderr filtered (once)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            exec_module = spec.loader.exec_module
            spec.loader.exec_module = lambda module: _exec_with_filtered_stderr(exec_module, module)
        return spec


if "tensorflow" not in sys.modules and _min_log_level() >= 1 \
        and not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _QuietTensorFlowImport())

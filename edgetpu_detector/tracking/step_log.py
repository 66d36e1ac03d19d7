"""A step's console output, also kept in a log file that becomes the run's ``logs/<step>.log`` artifact.

``tee_output`` duplicates ``sys.stdout`` and ``sys.stderr`` (prints, tqdm bars, warnings, the traceback of
an uncaught exception) into a file, flushed on every write, so the file holds everything up to the moment
a process is killed. Secrets are masked in the file (``edgetpu_detector.tracking.redact``); the console is left as is.
"""
from contextlib import contextmanager
import io
import sys

from edgetpu_detector.tracking.redact import redact, secret_values


class _Tee(io.TextIOBase):
    def __init__(self, stream, log, secrets):
        self._stream, self._log, self._secrets = stream, log, secrets

    def write(self, text):
        self._stream.write(text)
        self._log.write(redact(text, self._secrets))
        self._log.flush()
        return len(text)

    def flush(self):
        self._stream.flush()
        self._log.flush()

    def isatty(self):
        return self._stream.isatty()

    def fileno(self):
        return self._stream.fileno()

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", "utf-8")


@contextmanager
def tee_output(log_path):
    """Copy everything written to ``sys.stdout`` / ``sys.stderr`` inside the block into ``log_path``
    (created or truncated, UTF-8). Output written directly to file descriptors 1 and 2 by C code is not
    captured (TensorFlow's C++ logging is silenced by ``edgetpu_detector.core.env``).

    Yields:
      ``write_log_only(text)``: append text to the file without printing it (e.g. a traceback that the
      interpreter prints anyway once the exception leaves the block).
    """
    secrets = secret_values()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(stdout, log, secrets), _Tee(stderr, log, secrets)
        def write_log_only(text):
            log.write(redact(text, secrets))
            log.flush()

        try:
            yield write_log_only
        finally:
            sys.stdout, sys.stderr = stdout, stderr

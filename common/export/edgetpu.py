"""Edge TPU compilation and runtime detection (Coral).

Source: Coral docs, "Edge TPU Compiler" (``edgetpu_compiler [options] model.tflite``; ``-s`` prints the op
mapping summary, ``-o DIR`` sets the output folder; writes ``<name>_edgetpu.tflite`` and
``<name>_edgetpu.log``), and "Run inference with TensorFlow Lite in Python" (delegate
``libedgetpu.so.1``). We never fabricate a compiled model: when the compiler is absent the caller reports
it and moves on.
"""
from pathlib import Path
import re
import shutil
import subprocess

EDGETPU_COMPILER = "edgetpu_compiler"
EDGETPU_LIBRARY = "libedgetpu.so.1"


class EdgeTPUCompileError(RuntimeError):
    """``edgetpu_compiler`` failed, timed out, or did not write its output."""


def find_edgetpu_compiler():
    """Path (str) of ``edgetpu_compiler`` on ``PATH``, or None when it is not installed."""
    return shutil.which(EDGETPU_COMPILER)


def compile_for_edgetpu(tflite_path, out_dir, timeout_s=600, compiler=None):
    """Compile a full-integer ``.tflite`` for the Edge TPU.

    Runs ``edgetpu_compiler -s -o OUT_DIR MODEL.tflite``.

    Args:
      tflite_path: int8 model from ``convert_int8_tflite``.
      out_dir: output folder (created).
      timeout_s: seconds before the compiler is killed.
      compiler: path of the compiler; default ``find_edgetpu_compiler()``.

    Returns:
      ``(compiled_path, log_path)``: ``Path`` of ``<stem>_edgetpu.tflite`` and of its ``.log``. The
      compiler's stdout (the ``-s`` summary) is appended to the log when the compiler did not write one.

    Raises:
      FileNotFoundError: the model or the compiler is missing.
      EdgeTPUCompileError: non-zero exit, timeout, or no output file.
    """
    tflite_path = Path(tflite_path)
    if not tflite_path.is_file():
        raise FileNotFoundError(f"no TFLite model at {tflite_path}")
    compiler = compiler or find_edgetpu_compiler()
    if not compiler:
        raise FileNotFoundError(f"{EDGETPU_COMPILER} not found on PATH (see https://coral.ai/docs/edgetpu/compiler/)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [str(compiler), "-s", "-o", str(out_dir), str(tflite_path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} timed out after {timeout_s} s") from e
    output = (result.stdout or "") + (result.stderr or "")
    if result.returncode != 0:
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} exited with {result.returncode}: {output.strip()[-2000:]}")
    compiled = out_dir / f"{tflite_path.stem}_edgetpu.tflite"
    log = out_dir / f"{tflite_path.stem}_edgetpu.log"
    if not compiled.is_file():
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} wrote no {compiled.name}: {output.strip()[-2000:]}")
    if not log.is_file():
        log.write_text(output)
    return compiled, log


def parse_edgetpu_log(text):
    """Op counts from the compiler's summary / log text.

    Returns:
      dict with ``ops_on_edgetpu`` and ``ops_on_cpu`` (int; missing lines are left out), read from the
      lines "Number of operations that will run on Edge TPU: N" and "... on CPU: N".
    """
    counts = {}
    for key, pattern in (("ops_on_edgetpu", r"run on Edge TPU:\s*(\d+)"), ("ops_on_cpu", r"run on CPU:\s*(\d+)")):
        match = re.search(pattern, text)
        if match:
            counts[key] = int(match.group(1))
    return counts


def edgetpu_runtime_available():
    """True when the Edge TPU runtime delegate (``libedgetpu.so.1``) loads, i.e. a Coral device can be used.

    Any failure to load it (library absent, no device) gives False.
    """
    try:
        from ai_edge_litert.interpreter import load_delegate

        load_delegate(EDGETPU_LIBRARY)
    except (ValueError, OSError, RuntimeError, ImportError):
        return False
    return True

"""Coral's Edge TPU compiler: finding it, running it, reading its log.

Source: Coral docs, "Edge TPU Compiler" (``edgetpu_compiler [options] model.tflite``; ``-s`` prints the op
mapping summary, ``-o DIR`` sets the output folder; writes ``<name>_edgetpu.tflite`` and
``<name>_edgetpu.log``). We never fabricate a compiled model: when the compiler is absent the caller reports
it and moves on.
"""
from dataclasses import dataclass, field
from pathlib import Path
import re
import shutil
import subprocess

EDGETPU_COMPILER = "edgetpu_compiler"
COMPILED_SUFFIX = "_edgetpu.tflite"  # the compiler writes <model>_edgetpu.tflite
# What happened to a model given to ``compile_if_available`` (the ``edgetpu_compiler`` tag of a convert run).
COMPILED = "compiled"
COMPILER_ABSENT = "compiler_absent"
COMPILE_FAILED = "compile_failed"


class EdgeTPUCompileError(RuntimeError):
    """``edgetpu_compiler`` failed, timed out, or did not write its output."""


def compiled_name(model_name):
    """The file name ``edgetpu_compiler`` gives the compiled twin of ``model_name`` (one segment)."""
    return f"{Path(model_name).stem}{COMPILED_SUFFIX}"


def find_edgetpu_compiler():
    """Path (str) of ``edgetpu_compiler`` on ``PATH``, or None when it is not installed."""
    return shutil.which(EDGETPU_COMPILER)


def edgetpu_compiler_command(tflite_path, out_dir, compiler=EDGETPU_COMPILER, timeout_s=600, search_delegate=False,
                             num_segments=1, min_runtime_version=0):
    """The ``edgetpu_compiler`` command line (list of str) for one model.

    Options (Coral docs, "Edge TPU Compiler", usage): ``-s`` show the operations summary, ``-o`` output
    folder, ``-t`` the compiler's own timeout in seconds, ``-d`` (``--search_delegate``) search for an
    earlier stopping point when compilation fails on an unsupported op, ``-n`` (``--num_segments``) split
    the model into segments for pipelining over several Edge TPUs, ``-m`` (``--min_runtime_version``) the
    oldest Edge TPU runtime the model must run on (by default the compiler targets the newest runtime it
    knows, 14 for compiler 16; an older runtime refuses the model with "model requires runtime version 14",
    and ``-m 13`` makes it load there).

    Raises:
      ValueError: ``num_segments`` < 1, ``timeout_s`` <= 0 or ``min_runtime_version`` < 0 (0: the default).
    """
    if int(num_segments) < 1:
        raise ValueError(f"num_segments must be >= 1, got {num_segments}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if int(min_runtime_version) < 0:
        raise ValueError(f"min_runtime_version must be >= 0 (0: the compiler's default), got {min_runtime_version}")
    command = [str(compiler), "-s", "-o", str(out_dir), "-t", str(int(timeout_s))]
    if search_delegate:
        command.append("-d")
    if int(num_segments) > 1:
        command += ["-n", str(int(num_segments))]
    if int(min_runtime_version):
        command += ["-m", str(int(min_runtime_version))]
    return command + [str(tflite_path)]


def compile_for_edgetpu(tflite_path, out_dir, timeout_s=600, compiler=None, search_delegate=False, num_segments=1,
                        min_runtime_version=0):
    """Compile a full-integer ``.tflite`` for the Edge TPU.

    Runs ``edgetpu_compiler_command(...)``; the process is killed ``min(timeout_s, 30)`` s after
    ``timeout_s`` if the compiler's own timeout did not stop it.

    Args:
      tflite_path: int8 model from ``convert_int8_tflite``.
      out_dir: output folder (created).
      timeout_s: seconds allowed to the compiler.
      compiler: path of the compiler; default ``find_edgetpu_compiler()``.
      search_delegate, num_segments, min_runtime_version: compiler options, see ``edgetpu_compiler_command``.

    Returns:
      ``(compiled_paths, log_path)``: list of ``Path`` (``<stem>_edgetpu.tflite``, or the
      ``<stem>_segment_<i>_of_<n>_edgetpu.tflite`` files in order) and the ``Path`` of the log: the
      compiler's ``<stem>_edgetpu.log`` (per-operator table) followed by its standard output (the summary
      with memory use and op counts), in one file.

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
    command = edgetpu_compiler_command(tflite_path, out_dir, compiler, timeout_s, search_delegate, num_segments,
                                       min_runtime_version)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s + min(timeout_s, 30),
                                check=False)
    except subprocess.TimeoutExpired as e:
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} timed out after {timeout_s} s") from e
    output = (result.stdout or "") + (result.stderr or "")
    if result.returncode != 0:
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} exited with {result.returncode}: {output.strip()[-2000:]}")
    if int(num_segments) > 1:
        n = int(num_segments)
        compiled = [out_dir / f"{tflite_path.stem}_segment_{i}_of_{n}_edgetpu.tflite" for i in range(n)]
    else:
        compiled = [out_dir / compiled_name(tflite_path)]
    absent = [p.name for p in compiled if not p.is_file()]
    if absent:
        raise EdgeTPUCompileError(f"{EDGETPU_COMPILER} wrote no {', '.join(absent)}: {output.strip()[-2000:]}")
    log = out_dir / f"{tflite_path.stem}_edgetpu.log"
    logs = sorted(p for p in out_dir.glob(f"{tflite_path.stem}*_edgetpu.log") if p != log)
    text = "".join(p.read_text(errors="replace") for p in ([log] if log.is_file() else []) + logs)
    log.write_text(text + ("\n" if text and not text.endswith("\n") else "") + output)
    return compiled, log


_SIZE_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9}
_SUMMARY_LINES = {
    "ops_on_edgetpu": r"Number of operations that will run on Edge TPU:\s*(\d+)",
    "ops_on_cpu": r"Number of operations that will run on CPU:\s*(\d+)",
    "ops_total": r"Total number of operations:\s*(\d+)",
    "edgetpu_subgraphs": r"Number of Edge TPU subgraphs:\s*(\d+)",
}
_SIZE = r":\s*([\d.]+)\s*([KMG]?i?B)"
_MEMORY_LINES = {
    "on_chip_memory_used_bytes": r"On-chip memory used for caching model parameters" + _SIZE,
    "on_chip_memory_remaining_bytes": r"On-chip memory remaining for caching model parameters" + _SIZE,
    "off_chip_memory_used_bytes": r"Off-chip memory used for streaming uncached model parameters" + _SIZE,
}
_TABLE_ROW = re.compile(r"^([A-Z][A-Z0-9_]*|[A-Za-z][\w-]*)\s{2,}(\d+)\s{2,}(\S.*?)\s*$")


def parse_operator_table(text):
    """The compiler's per-operator table (``Operator  Count  Status`` lines) as a list of
    ``{"op": str, "count": int, "status": str}``; status ``Mapped to Edge TPU`` means on the Edge TPU."""
    rows, in_table = [], False
    for line in text.splitlines():
        if re.match(r"^Operator\s+Count\s+Status", line.strip()):
            in_table = True
            continue
        if in_table:
            match = _TABLE_ROW.match(line.strip())
            if match:
                rows.append({"op": match.group(1), "count": int(match.group(2)), "status": match.group(3)})
            elif line.strip() and rows:
                in_table = False
    return rows


def parse_edgetpu_log(text):
    """Metrics from the compiler's summary and log text.

    Returns:
      dict of numbers (keys present only when found): ``ops_on_edgetpu``, ``ops_on_cpu``, ``ops_total``,
      ``edgetpu_subgraphs`` (int), ``on_chip_memory_used_bytes``, ``on_chip_memory_remaining_bytes``,
      ``off_chip_memory_used_bytes`` (int bytes; the log prints e.g. ``3.91MiB``, ``0.00B``) and
      ``ops_mapped_fraction`` (float). When the summary lacks the op counts, they are summed from the
      per-operator table.
    """
    stats = {}
    for key, pattern in _SUMMARY_LINES.items():
        match = re.search(pattern, text)
        if match:
            stats[key] = int(match.group(1))
    for key, pattern in _MEMORY_LINES.items():
        match = re.search(pattern, text)
        if match and match.group(2) in _SIZE_UNITS:
            stats[key] = int(round(float(match.group(1)) * _SIZE_UNITS[match.group(2)]))
    rows = parse_operator_table(text)
    if rows and "ops_on_edgetpu" not in stats:
        stats["ops_on_edgetpu"] = sum(r["count"] for r in rows if r["status"] == "Mapped to Edge TPU")
        stats["ops_on_cpu"] = sum(r["count"] for r in rows if r["status"] != "Mapped to Edge TPU")
    if "ops_total" not in stats and "ops_on_edgetpu" in stats and "ops_on_cpu" in stats:
        stats["ops_total"] = stats["ops_on_edgetpu"] + stats["ops_on_cpu"]
    if stats.get("ops_total"):
        stats["ops_mapped_fraction"] = stats.get("ops_on_edgetpu", 0) / stats["ops_total"]
    return stats


@dataclass(frozen=True)
class CompilerOptions:
    """``edgetpu_compiler`` options: ``timeout_s`` (seconds), ``search_delegate`` (``-d``), ``num_segments``
    (``-n``, for pipelining over several Edge TPUs), ``min_runtime_version`` (``-m``; 0: the compiler's
    default)."""

    timeout_s: int = 600
    search_delegate: bool = False
    num_segments: int = 1
    min_runtime_version: int = 0


@dataclass
class CompileOutcome:
    """What ``compile_if_available`` did: ``status`` (``COMPILED``, ``COMPILER_ABSENT``, ``COMPILE_FAILED``),
    a one-line ``message``, the compiled ``models`` (several with ``num_segments`` > 1), the ``log_path`` and
    the ``stats`` parsed from it (``parse_edgetpu_log``)."""

    status: str
    message: str
    models: list = field(default_factory=list)
    log_path: Path | None = None
    stats: dict = field(default_factory=dict)


def compile_if_available(tflite_path, out_dir, options=CompilerOptions()):
    """Compile ``tflite_path`` for the Edge TPU when Coral's compiler is on PATH; never fabricate a result.

    Returns:
      ``CompileOutcome``; the compiler's own failure is reported in it, not raised.
    """
    compiler = find_edgetpu_compiler()
    if compiler is None:
        return CompileOutcome(COMPILER_ABSENT, f"{EDGETPU_COMPILER} not found on PATH: the int8 model was not "
                                               "compiled for the Edge TPU (use the Docker image, or install "
                                               "Coral's edgetpu-compiler)")
    try:
        models, log = compile_for_edgetpu(tflite_path, out_dir, options.timeout_s, compiler, options.search_delegate,
                                          options.num_segments, options.min_runtime_version)
    except (EdgeTPUCompileError, OSError) as error:
        return CompileOutcome(COMPILE_FAILED, f"{EDGETPU_COMPILER} failed: {error}")
    return CompileOutcome(COMPILED, f"compiled for the Edge TPU: {', '.join(p.name for p in models)}",
                          [Path(m) for m in models], Path(log), parse_edgetpu_log(Path(log).read_text()))

"""Edge TPU compatibility report of a ``.tflite`` model, without the Edge TPU compiler.

Applies Coral's model requirements op by op (``edgetpu_detector.tflite.edgetpu_requirements``) and then the way the
compiler partitions a graph (Coral docs, "TensorFlow models on the Edge TPU", compiling section, and the
compiler's own log): it maps one Edge TPU subgraph; ops the Edge TPU cannot run that come *before* it (e.g. a
float input's ``QUANTIZE``) stay on the CPU and feed it; once an op the Edge TPU cannot run consumes the
output of a mapped op, the graph is cut there: that op and every op that depends on it run on the CPU, even
those the Edge TPU supports (a second Edge TPU subgraph would be needed). Ops on other branches still map.

Checked against Coral's compiled reference models (``../shared/reference_models/coral_test_data``): the ops
this predicts to map are exactly those the compiler absorbed into ``edgetpu-custom-op`` for MobileNet v1 and
DeepLab v3 (see ``tests/test_edgetpu_compat.py``; MoveNet's figure is in that test too).

The report also gives the parameter size of the mapped ops (constant weights and biases) against the
Edge TPU's ~8 MB on-chip memory (Coral docs, "Parameter data caching": parameters that do not fit are
streamed from host memory, which is slower; the compiler also keeps some of that memory for itself).
"""
from collections import Counter
from dataclasses import asdict, dataclass, field
import json
from pathlib import Path

from edgetpu_detector.tflite.edgetpu_requirements import op_problems
from edgetpu_detector.tflite.graph import read_graph

EDGETPU_CUSTOM_OP = "edgetpu-custom-op"
POSTPROCESS_OP = "TFLite_Detection_PostProcess"
ON_CHIP_MEMORY_BYTES = 8 * 1024 * 1024

EDGETPU = "edgetpu"            # maps to the Edge TPU
CPU_BEFORE = "cpu_before"      # runs on the CPU before the Edge TPU subgraph (e.g. a float input's QUANTIZE)
CPU_CUT = "cpu_cut"            # cannot run on the Edge TPU and consumes mapped outputs: the graph is cut here
CPU_AFTER_CUT = "cpu_after_cut"  # supported, but depends on a cut op: stays on the CPU
PRECOMPILED = "edgetpu_custom_op"  # an existing edgetpu-custom-op (the model is already compiled)

_AFTER_CUT_PREFIX = "depends on op #"

VERDICT_ALL = "every op maps to the Edge TPU"
VERDICT_BEFORE_POSTPROCESS = "every op before the post-processing op maps to the Edge TPU"
VERDICT_PARTIAL = "partially mapped"
VERDICT_NONE = "no op maps to the Edge TPU"


@dataclass
class OpReport:
    """What the checker decided for one op: ``placement`` one of EDGETPU, CPU_BEFORE, CPU_CUT,
    CPU_AFTER_CUT, PRECOMPILED; ``reasons``: why it is not on the Edge TPU (empty when it maps)."""

    index: int
    op: str
    version: int
    placement: str
    reasons: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # [(name, dtype, shape)]

    @property
    def maps(self):
        return self.placement in (EDGETPU, PRECOMPILED)


@dataclass
class CompatibilityReport:
    """The compatibility report (``to_dict`` / ``write`` give its JSON form, ``format_text`` a table)."""

    model: str
    verdict: str
    ops_total: int
    ops_mapped: int
    ops_on_cpu: int
    cut: list              # [{"index", "op", "reasons"}] ops where the compiler would cut the graph
    parameter_bytes: int   # constant data read by mapped ops
    on_chip_memory_bytes: int
    parameters_fit_on_chip: bool
    model_checks: dict     # input/output dtypes and shapes, batch 1, static shapes
    ops: list              # [OpReport]

    @property
    def mapped_indices(self):
        """Indices of the ops predicted to map to the Edge TPU."""
        return {o.index for o in self.ops if o.maps}

    def to_dict(self):
        out = asdict(self)
        out["operators"] = operator_summary(self.ops)
        return out

    def write(self, path):
        """Write the report as JSON (and return the ``Path``)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def format_text(self):
        """Human-readable report: verdict, cuts, memory, then a per-operator table like the compiler's."""
        lines = [f"Edge TPU compatibility of {self.model} (Coral's published requirements; no compiler run)",
                 f"Verdict: {self.verdict}",
                 f"Operations that would run on the Edge TPU: {self.ops_mapped} of {self.ops_total}",
                 f"Operations that would run on the CPU: {self.ops_on_cpu}"]
        for cut in self.cut:
            lines.append(f"Graph cut at op #{cut['index']} {cut['op']}: {'; '.join(cut['reasons'])}")
        lines.append(f"Parameters of the mapped ops: {self.parameter_bytes / 2**20:.2f} MiB of "
                     f"~{self.on_chip_memory_bytes / 2**20:.0f} MiB on-chip memory"
                     + ("" if self.parameters_fit_on_chip else " (the rest would stream from host memory)"))
        for key, value in self.model_checks.items():
            lines.append(f"{key}: {value}")
        lines += ["", f"{'Operator':<30} {'Count':<6} Status"]
        for row in operator_summary(self.ops):
            lines.append(f"{row['op']:<30} {row['count']:<6} {row['status']}")
        lines += ["", "Ops not on the Edge TPU:"]
        for o in self.ops:
            if not o.maps:
                lines.append(f"  #{o.index} {o.op} [{o.placement}]: {'; '.join(o.reasons)}")
        return "\n".join(lines) + "\n"


def operator_summary(ops):
    """Counts per (operator, status), in first-seen order: ``[{"op", "count", "status"}]``."""
    counts = Counter()
    for o in ops:
        if o.maps:
            status = "Mapped to Edge TPU"
        elif o.placement == CPU_AFTER_CUT and o.reasons[0].startswith(_AFTER_CUT_PREFIX):
            status = "Supported, but after the graph cut: runs on the CPU"
        else:
            status = o.reasons[0]
        counts[(o.op, status)] += 1
    return [{"op": op, "count": n, "status": status} for (op, status), n in counts.items()]


def _postprocess_tail(graph):
    """Indices of the custom post-processing op and of the DEQUANTIZE ops that only feed it."""
    tail = {o.index for o in graph.ops if o.name == POSTPROCESS_OP}
    consumers = {}
    for o in graph.ops:
        for t in o.inputs:
            consumers.setdefault(t.index, set()).add(o.index)
    for o in graph.ops:
        if o.name == "DEQUANTIZE" and all(consumers.get(t.index, set()) <= tail and consumers.get(t.index)
                                          for t in o.outputs):
            tail.add(o.index)
    return tail


def _model_checks(graph):
    def describe(tensors):
        return [f"{t.name} {t.dtype} {list(t.shape_signature)}" for t in tensors]

    dynamic = [t.name for o in graph.ops for t in o.inputs + o.outputs if any(d < 0 for d in t.shape_signature)]
    batch = {t.shape[0] for o in graph.ops for t in o.inputs + o.outputs
             if not t.constant and len(t.shape) == 4}
    return {"inputs": describe(graph.inputs), "outputs": describe(graph.outputs),
            "static_shapes": not dynamic and all(d >= 0 for t in graph.inputs for d in t.shape_signature),
            "batch_size_1": batch <= {1},
            "dynamic_tensors": sorted(set(dynamic))[:10]}


def check_edgetpu_compatibility(model):
    """Predict which ops of a ``.tflite`` model the Edge TPU compiler would map, and why the others would not.

    Args:
      model: path of a ``.tflite`` file (or its bytes).

    Returns:
      ``CompatibilityReport``. ``verdict`` is VERDICT_ALL, VERDICT_BEFORE_POSTPROCESS (the only CPU ops are a
      ``TFLite_Detection_PostProcess`` op and the DEQUANTIZE ops feeding it), VERDICT_PARTIAL (with
      ``cut``) or VERDICT_NONE.

    Raises:
      FileNotFoundError; ValueError: not a TFLite flatbuffer.
    """
    graph = read_graph(model)
    placement, reasons = {}, {}
    for op in graph.ops:  # TFLite stores ops in a valid execution (topological) order
        preds = graph.predecessors(op)
        if op.name == EDGETPU_CUSTOM_OP:
            placement[op.index], reasons[op.index] = PRECOMPILED, []
            continue
        problems = op_problems(op)
        after_cut = [p for p in preds if placement[p] in (CPU_CUT, CPU_AFTER_CUT)]
        if problems:
            reasons[op.index] = problems
            feeds_on_tpu = any(placement[p] in (EDGETPU, PRECOMPILED) for p in preds)
            placement[op.index] = CPU_CUT if feeds_on_tpu else (CPU_AFTER_CUT if after_cut else CPU_BEFORE)
        elif after_cut:
            placement[op.index] = CPU_AFTER_CUT
            reasons[op.index] = [f"{_AFTER_CUT_PREFIX}{min(after_cut)} ({graph.ops[min(after_cut)].name}), which runs "
                                 "on the CPU after the Edge TPU subgraph (the compiler maps one subgraph)"]
        else:
            placement[op.index], reasons[op.index] = EDGETPU, []
    ops = [OpReport(index=o.index, op=o.name, version=o.version, placement=placement[o.index],
                    reasons=reasons[o.index], outputs=[(t.name, t.dtype, list(t.shape)) for t in o.outputs])
           for o in graph.ops]
    mapped = [o for o in ops if o.maps]
    on_cpu = [o for o in ops if not o.maps]
    tail = _postprocess_tail(graph)
    if not on_cpu:
        verdict = VERDICT_ALL
    elif not mapped:
        verdict = VERDICT_NONE
    elif tail and {o.index for o in on_cpu} == tail:
        verdict = VERDICT_BEFORE_POSTPROCESS
    else:
        verdict = VERDICT_PARTIAL
    cut = [{"index": o.index, "op": o.op, "reasons": o.reasons} for o in ops if o.placement == CPU_CUT]
    buffers = {}
    for o in graph.ops:
        if placement[o.index] == EDGETPU:
            for t in o.inputs:
                if t.constant:
                    buffers[t.buffer] = t.nbytes
    parameter_bytes = sum(buffers.values())
    return CompatibilityReport(model=str(model) if not isinstance(model, (bytes, bytearray)) else "<bytes>",
                               verdict=verdict, ops_total=len(ops), ops_mapped=len(mapped), ops_on_cpu=len(on_cpu),
                               cut=cut, parameter_bytes=parameter_bytes, on_chip_memory_bytes=ON_CHIP_MEMORY_BYTES,
                               parameters_fit_on_chip=parameter_bytes <= ON_CHIP_MEMORY_BYTES,
                               model_checks=_model_checks(graph), ops=ops)


def ops_absorbed_by_compiler(cpu_model, compiled_model):
    """Ground truth from a model and its Edge TPU-compiled twin: which ops the compiler mapped.

    The compiler replaces the mapped ops by ``edgetpu-custom-op`` and keeps the others, with their output
    tensor names. An op of ``cpu_model`` whose outputs reappear as outputs of a non-Edge TPU op of
    ``compiled_model`` stayed on the CPU; every other op was absorbed.

    Args:
      cpu_model, compiled_model: ``.tflite`` paths (or bytes).

    Returns:
      set of op indices of ``cpu_model`` that run on the Edge TPU in ``compiled_model``.

    Raises:
      ValueError: ``compiled_model`` holds no ``edgetpu-custom-op`` or has CPU ops not found in ``cpu_model``.
    """
    cpu, compiled = read_graph(cpu_model), read_graph(compiled_model)
    if not any(o.name == EDGETPU_CUSTOM_OP for o in compiled.ops):
        raise ValueError(f"{compiled_model} holds no {EDGETPU_CUSTOM_OP}: not compiled for the Edge TPU")
    remaining = [(o.name, tuple(t.name for t in o.outputs)) for o in compiled.ops if o.name != EDGETPU_CUSTOM_OP]
    by_outputs = {(o.name, tuple(t.name for t in o.outputs)): o.index for o in cpu.ops}
    missing = [r for r in remaining if r not in by_outputs]
    if missing:
        raise ValueError(f"{compiled_model}: CPU ops {missing[:3]} are not in {cpu_model}")
    on_cpu = {by_outputs[r] for r in remaining}
    return {o.index for o in cpu.ops} - on_cpu

"""What is inside a ``.tflite`` file: its operators with tensor dtypes, and its inputs/outputs.

Reads the flatbuffer directly (TFLite ``schema.fbs``), so the answer does not depend on the delegates
an interpreter would apply.
"""
from dataclasses import dataclass
from pathlib import Path

from common.export.flatbuffer import TENSOR_TYPE_NAMES, op_name, read_model


@dataclass(frozen=True)
class OpInfo:
    """One operator of the main subgraph.

    ``name``: builtin name (``CONV_2D``) or custom code (``TFLite_Detection_PostProcess``);
    ``input_types`` / ``output_types``: dtype names (``int8``, ``uint8``, ``float32``, ``int32``...) of its
    tensors (optional inputs omitted); ``constant_inputs``: for each input, True when it is a constant
    (has buffer data).
    """

    name: str
    input_types: tuple
    output_types: tuple
    constant_inputs: tuple
    custom: bool


def _read(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no TFLite model at {path}")
    return read_model(path.read_bytes())


def tflite_ops(path):
    """List the operators of a ``.tflite`` model's main subgraph, in execution order.

    Returns:
      list of ``OpInfo``.

    Raises:
      FileNotFoundError; ValueError: not a TFLite flatbuffer.
    """
    model = _read(path)
    subgraph = model.subgraphs[0]

    def dtype(index):
        return TENSOR_TYPE_NAMES.get(subgraph.tensors[index].type, str(subgraph.tensors[index].type))

    def constant(index):
        buffer = model.buffers[subgraph.tensors[index].buffer]
        return bool(buffer is not None and ((buffer.data is not None and len(buffer.data)) or buffer.size))

    ops = []
    for op in subgraph.operators:
        inputs = [int(i) for i in (op.inputs if op.inputs is not None else []) if i >= 0]
        outputs = [int(i) for i in (op.outputs if op.outputs is not None else [])]
        name = op_name(model, op)
        code = model.operatorCodes[op.opcodeIndex]
        ops.append(OpInfo(name, tuple(dtype(i) for i in inputs), tuple(dtype(i) for i in outputs),
                          tuple(constant(i) for i in inputs), code.customCode is not None))
    return ops


def tflite_io(path):
    """Inputs and outputs of a ``.tflite`` model's main subgraph, in order.

    Returns:
      ``(inputs, outputs)``: two lists of dicts ``{"name": str, "dtype": str, "shape": tuple,
      "scale": float or None, "zero_point": int or None}``.
    """
    model = _read(path)
    subgraph = model.subgraphs[0]

    def describe(index):
        tensor = subgraph.tensors[index]
        q = tensor.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        zero = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else None
        name = tensor.name.decode() if isinstance(tensor.name, bytes) else tensor.name
        return {"name": name, "dtype": TENSOR_TYPE_NAMES.get(tensor.type, str(tensor.type)),
                "shape": tuple(int(d) for d in tensor.shape), "scale": scale, "zero_point": zero}

    return [describe(int(i)) for i in subgraph.inputs], [describe(int(i)) for i in subgraph.outputs]

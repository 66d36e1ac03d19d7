"""A read-only view of a ``.tflite`` model's main subgraph as a dataflow graph, for analysis.

Reads the flatbuffer directly (TFLite ``schema.fbs`` through ai_edge_litert's generated object API), so the
answer does not depend on the delegates an interpreter would apply. Used by the Edge TPU compatibility
checker (``edgetpu_detector.tflite.edgetpu_compat``).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgetpu_detector.tflite.flatbuffer import TENSOR_TYPE_NAMES, op_name, read_model

_NUMPY_TYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
                "float32": np.float32, "float16": np.float16, "bool": np.bool_}


@dataclass(frozen=True)
class Tensor:
    """One tensor of the subgraph.

    ``shape``: static shape (tuple of int); ``shape_signature``: the same with -1 for dynamic dimensions
    (equal to ``shape`` when the file has none); ``dtype``: ``int8``, ``uint8``, ``int32``, ``float32``...;
    ``constant``: holds data in the file (weights, biases, shape operands); ``nbytes``: size of that data;
    ``quantized``: has a quantization scale.
    """

    index: int
    name: str
    dtype: str
    shape: tuple
    shape_signature: tuple
    constant: bool
    nbytes: int
    quantized: bool
    buffer: int
    data: bytes | None = None
    scale: float | None = None  # first quantization scale, when quantized
    zero_point: int | None = None

    def values(self):
        """The constant's values as a numpy array of ``shape`` (None for a non-constant tensor)."""
        if self.data is None or self.dtype not in _NUMPY_TYPES:
            return None
        return np.frombuffer(self.data, dtype=_NUMPY_TYPES[self.dtype]).reshape(self.shape)


@dataclass(frozen=True)
class Op:
    """One operator: ``name`` is the builtin name (``CONV_2D``) or the custom code; ``inputs`` / ``outputs``
    are tuples of ``Tensor`` (optional inputs left out); ``options`` the builtin options object or None."""

    index: int
    name: str
    version: int
    custom: bool
    inputs: tuple
    outputs: tuple
    options: object


@dataclass(frozen=True)
class Graph:
    """The main subgraph: ``ops`` in execution order, model ``inputs`` / ``outputs`` (tuples of ``Tensor``),
    ``producer``: tensor index -> index of the op writing it."""

    ops: tuple
    inputs: tuple
    outputs: tuple
    producer: dict

    def predecessors(self, op):
        """Indices of the ops whose outputs ``op`` reads (constants and model inputs have none)."""
        return sorted({self.producer[t.index] for t in op.inputs if t.index in self.producer})


def read_graph(model):
    """Read the main subgraph of a ``.tflite`` model.

    Args:
      model: path of a ``.tflite`` file, or its bytes.

    Returns:
      ``Graph``.

    Raises:
      FileNotFoundError: no such file. ValueError: not a TFLite flatbuffer (names the file).
    """
    if isinstance(model, (bytes, bytearray)):
        data, where = bytes(model), "<bytes>"
    else:
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"no TFLite model at {path}")
        data, where = path.read_bytes(), str(path)
    try:
        flat = read_model(data)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error
    subgraph = flat.subgraphs[0]
    tensors = {}

    def tensor(index):
        if index not in tensors:
            t = subgraph.tensors[index]
            buffer = flat.buffers[t.buffer] if flat.buffers is not None and t.buffer < len(flat.buffers) else None
            data = None
            if buffer is not None and buffer.data is not None and len(buffer.data):
                data = np.asarray(buffer.data, np.uint8).tobytes()
            nbytes = len(data) if data is not None else int(getattr(buffer, "size", 0) or 0)
            shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
            signature = tuple(int(d) for d in t.shapeSignature) if t.shapeSignature is not None and len(
                t.shapeSignature) else shape
            q = t.quantization
            name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            quantized = q is not None and q.scale is not None and len(q.scale) > 0
            has_zero = quantized and q.zeroPoint is not None and len(q.zeroPoint) > 0
            tensors[index] = Tensor(index=index, name=name, dtype=TENSOR_TYPE_NAMES.get(t.type, str(t.type)),
                                    shape=shape, shape_signature=signature, constant=nbytes > 0, nbytes=nbytes,
                                    quantized=quantized, buffer=int(t.buffer), data=data,
                                    scale=float(q.scale[0]) if quantized else None,
                                    zero_point=int(q.zeroPoint[0]) if has_zero else None)
        return tensors[index]

    ops, producer = [], {}
    for i, op in enumerate(subgraph.operators):
        inputs = tuple(tensor(int(j)) for j in (op.inputs if op.inputs is not None else []) if j >= 0)
        outputs = tuple(tensor(int(j)) for j in (op.outputs if op.outputs is not None else []))
        code = flat.operatorCodes[op.opcodeIndex]
        ops.append(Op(index=i, name=op_name(flat, op), version=int(code.version), custom=code.customCode is not None,
                      inputs=inputs, outputs=outputs, options=op.builtinOptions))
        for t in outputs:
            producer[t.index] = i
    return Graph(ops=tuple(ops), inputs=tuple(tensor(int(j)) for j in subgraph.inputs),
                 outputs=tuple(tensor(int(j)) for j in subgraph.outputs), producer=producer)

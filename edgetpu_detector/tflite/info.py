"""What is inside a ``.tflite`` file, in brief: its operators with tensor dtypes, and its inputs and outputs.

A summary of ``edgetpu_detector.tflite.graph.read_graph`` (the flatbuffer itself, so the answer does not
depend on the delegates an interpreter would apply).
"""
from dataclasses import dataclass

from edgetpu_detector.tflite.graph import read_graph


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


def tflite_ops(path):
    """List the operators of a ``.tflite`` model's main subgraph, in execution order.

    Returns:
      list of ``OpInfo``.

    Raises:
      FileNotFoundError; ValueError: not a TFLite flatbuffer.
    """
    return [OpInfo(op.name, tuple(t.dtype for t in op.inputs), tuple(t.dtype for t in op.outputs),
                   tuple(t.constant for t in op.inputs), op.custom) for op in read_graph(path).ops]


def tflite_io(path):
    """Inputs and outputs of a ``.tflite`` model's main subgraph, in order.

    Returns:
      ``(inputs, outputs)``: two lists of dicts ``{"name": str, "dtype": str, "shape": tuple,
      "scale": float or None, "zero_point": int or None}``.
    """
    graph = read_graph(path)

    def describe(tensor):
        return {"name": tensor.name, "dtype": tensor.dtype, "shape": tensor.shape, "scale": tensor.scale,
                "zero_point": tensor.zero_point}

    return [describe(t) for t in graph.inputs], [describe(t) for t in graph.outputs]

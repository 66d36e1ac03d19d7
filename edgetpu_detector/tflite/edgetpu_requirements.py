"""Coral's published Edge TPU model requirements, applied to one TFLite operator at a time.

Source: Coral, "TensorFlow models on the Edge TPU" (https://coral.ai/docs/edgetpu/models-intro/), sections
"Model requirements" and "Supported operations" (the table as of Edge TPU compiler 16). In short:

* every tensor the Edge TPU computes on is 8-bit quantized (int8 or uint8); parameters such as biases are
  compile-time constants (int32 biases and shape operands are fine);
* tensor sizes are static, and only the innermost 3 dimensions of a tensor may be larger than 1 (so the
  batch size is 1);
* the op is in the supported-operations table and meets its restrictions (e.g. no fused activation on
  pooling / concatenation, equal x and y dilation, no reduction, padding, packing or splitting across the
  batch dimension, strided slices with unit strides, softmax on a 1-D tensor of at most 16,000 values).

Custom ops (e.g. ``TFLite_Detection_PostProcess``) never run on the Edge TPU.

One restriction is documented only vaguely: "depending on input/output size" the compiler may leave
``RESIZE_BILINEAR`` / ``RESIZE_NEAREST_NEIGHBOR`` on the CPU "to avoid loss in precision". We apply the rule
that matches Coral's compiled reference models (``../shared/reference_models/coral_test_data``): a resize maps
when it upsamples by a whole-number factor, computed as the op computes it (``(out - 1) / (in - 1)`` with
``align_corners``, else ``out / in``). DeepLab's 1x1 -> 33x33 resize with ``align_corners`` (a broadcast, no
whole-number factor) stays on the CPU, MoveNet's x2 resizes map. ``RESHAPE`` "might not be mapped for large
tensor sizes" without a published threshold: we do not predict that case.
"""
from edgetpu_detector.tflite.graph import Op

EIGHT_BIT = ("int8", "uint8")
# constant operands the Edge TPU accepts besides 8-bit weights: int32 biases, shapes, axes, paddings, sizes
CONSTANT_TYPES = ("int8", "uint8", "int32")
SOFTMAX_MAX_ELEMENTS = 16000
_NO_FUSED_ACTIVATION = 0  # ActivationFunctionType.NONE


def _effective_rank(shape):
    """Number of dimensions larger than 1."""
    return sum(1 for d in shape if d > 1)


def _axes(op, position=1):
    """The constant axis operand of a reduction / split / pad op, as a list of non-negative axes (or None)."""
    if len(op.inputs) <= position:
        return None
    values = op.inputs[position].values()
    if values is None:
        return None
    rank = len(op.inputs[0].shape)
    return [int(a) % rank if rank else int(a) for a in values.reshape(-1)]


def _no_fused_activation(op):
    if op.options is not None and getattr(op.options, "fusedActivationFunction", 0) != _NO_FUSED_ACTIVATION:
        return ["has a fused activation function (not supported on the Edge TPU for this op)"]
    return []


def _same_dilation(op):
    h, w = getattr(op.options, "dilationHFactor", 1), getattr(op.options, "dilationWFactor", 1)
    return [] if h == w else [f"dilation differs in y and x ({h} vs {w}); the Edge TPU needs the same dilation"]


def _concatenation(op):
    problems = _no_fused_activation(op)
    constants = [t for t in op.inputs if t.constant]
    if constants:
        values = constants[0].values()
        if len(op.inputs) != 2 or values is None or values.any():
            problems.append("a constant input is allowed only as the all-zero second of 2 inputs (zero padding)")
    return problems


def _fully_connected(op):
    problems = []
    if getattr(op.options, "weightsFormat", 0) != 0:
        problems.append("fully-connected weights are not in the default format")
    if op.outputs and _effective_rank(op.outputs[0].shape) > 1:
        problems.append(f"output shape {op.outputs[0].shape} is not one-dimensional")
    return problems


def _not_on_batch(what, position=1):
    def check(op):
        axes = _axes(op, position)
        if axes is None:
            return [f"its {what} axis is not a compile-time constant"]
        if len(op.inputs[0].shape) >= 4 and 0 in axes:
            return [f"{what} along the batch dimension"]
        return []
    return check


def _mean(op):
    problems = _not_on_batch("reduction")(op)
    axes = _axes(op) or []
    shape = op.inputs[0].shape
    if shape and len(shape) - 1 in axes and shape[-1] % 4:
        problems.append(f"reduction along z (channels) needs a depth that is a multiple of 4, got {shape[-1]}")
    return problems


def _pad(op):
    paddings = op.inputs[1].values() if len(op.inputs) > 1 else None
    if paddings is None:
        return ["its paddings are not a compile-time constant"]
    if len(op.inputs[0].shape) >= 4 and paddings.reshape(-1, 2)[0].any():
        return ["pads the batch dimension"]
    return []


def _pack(op):
    return ["packs along the batch dimension"] if getattr(op.options, "axis", 0) == 0 else []


def _split(op):
    # SPLIT: (axis, input); SPLIT_V: (input, sizes, axis)
    return _not_on_batch("split", position=0)(op) if op.name == "SPLIT" else []


def _strided_slice(op):
    problems = []
    strides = op.inputs[3].values() if len(op.inputs) > 3 else None
    if strides is None or (strides != 1).any():
        problems.append("strides other than 1")
    if getattr(op.options, "ellipsisMask", 0) or getattr(op.options, "newAxisMask", 0):
        problems.append("ellipsis or new-axis mask set")
    return problems


def _softmax(op):
    shape = op.inputs[0].shape
    problems = []
    if _effective_rank(shape) > 1:
        problems.append(f"input shape {shape} is not one-dimensional")
    size = 1
    for d in shape:
        size *= d
    if size > SOFTMAX_MAX_ELEMENTS:
        problems.append(f"input has {size} elements (at most {SOFTMAX_MAX_ELEMENTS})")
    return problems


def _prelu(op):
    alpha = op.inputs[1] if len(op.inputs) > 1 else None
    if alpha is None or not alpha.constant:
        return ["alpha is not a compile-time constant"]
    if _effective_rank(alpha.shape[:-1]) > 0:
        return [f"alpha shape {alpha.shape}: only its innermost dimension may be larger than 1"]
    return []


def _resize(op):
    source, target = op.inputs[0].shape, op.outputs[0].shape
    if len(source) != 4 or len(target) != 4:
        return [f"expects [1, H, W, C] tensors, got {source} -> {target}"]
    align = bool(getattr(op.options, "alignCorners", False))
    problems = []
    for axis, name in ((1, "height"), (2, "width")):
        a, b = source[axis], target[axis]
        num, den = (b - 1, a - 1) if align else (b, a)
        if den <= 0 or num % den:
            problems.append(f"{name} {a} -> {b} is not a whole-number upscale"
                            f"{' with align_corners' if align else ''}: the compiler leaves such resizes on "
                            "the CPU to avoid a loss of precision")
    return problems


def _none(op):
    return []


# builtin op name -> restriction check (returns a list of problems; empty when the op may map)
SUPPORTED_OPS = {
    "ADD": _none, "SUB": _none, "MUL": _none, "MAXIMUM": _none, "MINIMUM": _none, "SQUARED_DIFFERENCE": _none,
    "LOGISTIC": _none, "TANH": _none, "RELU": _none, "RELU6": _none, "RELU_N1_TO_1": _none, "RSQRT": _none,
    "L2_NORMALIZATION": _none, "QUANTIZE": _none, "RESHAPE": _none, "SQUEEZE": _none, "EXPAND_DIMS": _none,
    "SLICE": _none, "SPACE_TO_DEPTH": _none, "TRANSPOSE": _none, "TRANSPOSE_CONV": _none,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _none, "LSTM": _none,
    "AVERAGE_POOL_2D": _no_fused_activation, "MAX_POOL_2D": _no_fused_activation,
    "CONCATENATION": _concatenation, "CONV_2D": _same_dilation, "DEPTHWISE_CONV_2D": _same_dilation,
    "FULLY_CONNECTED": _fully_connected, "MEAN": _mean, "SUM": _not_on_batch("reduction"),
    "REDUCE_MAX": _not_on_batch("reduction"), "REDUCE_MIN": _not_on_batch("reduction"), "PAD": _pad,
    "PACK": _pack, "SPLIT": _split, "STRIDED_SLICE": _strided_slice, "SOFTMAX": _softmax, "PRELU": _prelu,
    "RESIZE_BILINEAR": _resize, "RESIZE_NEAREST_NEIGHBOR": _resize,
}


def tensor_problems(op: Op):
    """Problems of an op's tensors under the general model requirements (dtype, static shape, rank).

    Returns:
      list of str, one per problem (empty when the tensors are fine).
    """
    problems = []
    for tensor in op.inputs + op.outputs:
        label = f"tensor {tensor.name!r}"
        if tensor.constant:
            if tensor.dtype not in CONSTANT_TYPES:
                problems.append(f"{label} is a {tensor.dtype} constant (the Edge TPU needs 8-bit weights)")
            continue
        if tensor.dtype not in EIGHT_BIT:
            problems.append(f"{label} is {tensor.dtype} (the Edge TPU computes on 8-bit quantized tensors only)")
        elif not tensor.quantized:
            problems.append(f"{label} is {tensor.dtype} without quantization parameters")
        if any(d < 0 for d in tensor.shape_signature):
            problems.append(f"{label} has a dynamic shape {tensor.shape_signature} (sizes must be static)")
        if any(d > 1 for d in tensor.shape[:-3]):
            problems.append(f"{label} has shape {tensor.shape}: only the innermost 3 dimensions may be larger "
                            "than 1 (batch size 1)")
    return problems


def op_problems(op: Op):
    """Why ``op`` cannot run on the Edge TPU, from Coral's requirements.

    Args:
      op: ``edgetpu_detector.tflite.graph.Op``.

    Returns:
      list of str, one per problem; empty when the op meets every requirement (it may then map, subject to
      where the compiler cuts the graph, see ``edgetpu_detector.tflite.edgetpu_compat``).
    """
    if op.custom:
        return [f"custom op {op.name} always runs on the CPU"]
    check = SUPPORTED_OPS.get(op.name)
    if check is None:
        return [f"{op.name} is not among the Edge TPU's supported operations"]
    return tensor_problems(op) + check(op)

"""Small edits of a ``.tflite`` flatbuffer (TFLite ``schema.fbs``, read with ai_edge_litert's generated
object API)."""
from ai_edge_litert import schema_py_generated as schema
import flatbuffers

_FILE_IDENTIFIER = b"TFL3"
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
TENSOR_TYPE_NAMES = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def read_model(data):
    """Unpack ``.tflite`` bytes into a ``schema.ModelT`` (mutable object tree)."""
    if len(data) < 8 or bytes(data[4:8]) != _FILE_IDENTIFIER:
        raise ValueError("not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    return schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))


def write_model(model):
    """Pack a ``schema.ModelT`` back into ``.tflite`` bytes."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def op_name(model, operator):
    """Builtin name (e.g. ``CONV_2D``) or custom code (e.g. ``TFLite_Detection_PostProcess``) of an op."""
    code = model.operatorCodes[operator.opcodeIndex]
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = code.customCode
        return custom.decode() if isinstance(custom, bytes) else str(custom)
    return BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}")


def set_outputs_to_op(data, custom_code, names, signature_keys):
    """Make the model outputs exactly the outputs of its one ``custom_code`` op, in the op's order.

    The TFLite converter orders a signature's outputs its own way; pycoral and most apps read outputs by
    position, so we set ``subgraph.outputs`` (and the signature's output list) to the op's outputs and
    rename those tensors ``names``.

    Args:
      data: ``.tflite`` bytes.
      custom_code: custom op code to look for.
      names: new tensor names, one per op output.
      signature_keys: signature output keys, one per op output.

    Returns:
      The edited ``.tflite`` bytes.

    Raises:
      ValueError: the op is missing, repeated, or its outputs are not all model outputs.
    """
    model = read_model(data)
    subgraph = model.subgraphs[0]
    ops = [op for op in subgraph.operators if op_name(model, op) == custom_code]
    if len(ops) != 1:
        raise ValueError(f"expected one {custom_code} op in the main subgraph, found {len(ops)}")
    outputs = [int(i) for i in ops[0].outputs]
    if len(outputs) != len(names) or sorted(outputs) != sorted(int(i) for i in subgraph.outputs):
        raise ValueError(f"{custom_code} outputs {outputs} are not the model outputs {list(subgraph.outputs)}")
    subgraph.outputs = outputs
    for index, name in zip(outputs, names):
        subgraph.tensors[index].name = name.encode()
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex == 0:
            maps = []
            for index, key in zip(outputs, signature_keys):
                tensor_map = schema.TensorMapT()
                tensor_map.name, tensor_map.tensorIndex = key.encode(), index
                maps.append(tensor_map)
            signature.outputs = maps
    return write_model(model)

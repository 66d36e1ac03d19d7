"""Object-detector TFLite Model Metadata for our SSD detectors (what MediaPipe's ObjectDetector needs).

MediaPipe's ``ObjectDetector`` (and the TFLite Task Library) refuse a detector without metadata ("Object
detection models require TFLite Model Metadata but none was found"). ``detector_metadata`` builds the metadata
that the TFLite Support / MediaPipe object-detector writer (``create_for_models_with_nms`` /
``create_for_inference``) produces for a model ending in ``TFLite_Detection_PostProcess``; measured byte for
byte against tflite-support 0.4.4's writer (tests/tflite/test_metadata.py). ``model_metadata`` embeds it.

Our detectors (``edgetpu_detector.export.tflite_converter``): input [1, S, S, 3] uint8 raw pixels (int8 model, scale 1, zero
point 0) or float32 pixels 0..255 (float model); outputs of ``TFLite_Detection_PostProcess``: boxes float32
[1, N, 4] (ymin, xmin, ymax, xmax, normalized), classes float32 [1, N] (0-based; line i of labels.txt),
scores float32 [1, N], count float32 [1].
"""
from pathlib import Path

from edgetpu_detector.core.atomic import atomic_write_bytes
from edgetpu_detector.tflite.flatbuffer import TENSOR_TYPE_NAMES, op_name, read_model
from edgetpu_detector.tflite.metadata.model_metadata import attach_metadata
from edgetpu_detector.tflite.metadata.schema import (ASSOCIATED_FILE_TYPES, BOUNDING_BOX_TYPES, COLOR_SPACE_TYPES,
                                                     COORDINATE_TYPES)

POSTPROCESS_OP = "TFLite_Detection_PostProcess"
# Texts and names of the MediaPipe object-detector metadata writer (metadata_writer.py / metadata_info.py).
DETECTOR_NAME = "ObjectDetector"
DETECTOR_DESCRIPTION = ("Identify which of a known set of objects might be present and provide information "
                        "about their positions within the given image or a video stream.")
LABELS_DESCRIPTION = "Labels for categories that the model can recognize."
# Output tensor metadata names, in the op's output order; MediaPipe looks the tensors up by these names.
OUTPUT_NAMES = ("location", "category", "score", "number of detections")
_OUTPUT_DESCRIPTIONS = ("The locations of the detected boxes.", "The categories of the detected boxes.",
                        "The scores of the detected boxes.", "The number of the detected boxes.")
DETECTION_GROUP = "detection_result"


def detector_metadata(input_dtype, labels_file="labels.txt", name=DETECTOR_NAME,
                      description=DETECTOR_DESCRIPTION, version=None, author=None, license=None,
                      norm_mean=(0.0,), norm_std=(1.0,)):
    """ModelMetadata (dict, see ``flatbuffer_tables``) of a detector ending in TFLite_Detection_PostProcess.

    Output tensor metadata are listed in the op's output order (location, category, score, number of
    detections); ``attach_detector_metadata`` reorders them to the model's output order.

    Args:
      input_dtype: ``"uint8"`` or ``"float32"``: the input tensor type (stats: 0..255 for uint8; for float32
        ``(0 - mean) / std .. (255 - mean) / std`` per channel, as the writer computes them).
      labels_file: name of the packed labels file (TENSOR_VALUE_LABELS of the category tensor).
      name, description, version, author, license: ModelMetadata strings (None: not written).
      norm_mean, norm_std: NormalizationOptions, one value (all channels) or three. MediaPipe maps pixels
        0..255 to ``(x - mean) / std`` for a float32 input and ignores them for a uint8 input; our models
        take raw pixels 0..255, so mean 0, std 1 for both (the schema says a quantized model carries its
        float twin's parameters).

    Returns:
      dict for ``encode_metadata``; ``min_parser_version`` is filled by ``encode_metadata``.
    """
    if len(norm_mean) != len(norm_std) or len(norm_mean) not in (1, 3):
        raise ValueError("norm_mean and norm_std need the same length, 1 or 3")
    if any(s == 0 for s in norm_std):
        raise ValueError("norm_std must not contain 0")
    if input_dtype == "uint8":
        stats = {"min": [0.0], "max": [255.0]}
    elif input_dtype == "float32":
        stats = {"min": [(0.0 - m) / s for m, s in zip(norm_mean, norm_std)],
                 "max": [(255.0 - m) / s for m, s in zip(norm_mean, norm_std)]}
    else:
        raise ValueError(f"input dtype must be uint8 or float32, got {input_dtype!r}")
    image = {"name": "image", "description": "Input image to be detected.",
             "content": {"content_properties": ("ImageProperties", {"color_space": COLOR_SPACE_TYPES["RGB"]})},
             "process_units": [{"options": ("NormalizationOptions",
                                            {"mean": [float(m) for m in norm_mean],
                                             "std": [float(s) for s in norm_std]})}],
             "stats": stats}
    pair = {"min": 2, "max": 2}  # location, category and score: content over dimensions 2..2 (the N axis)
    location = {"content": {"content_properties": ("BoundingBoxProperties", {
        "index": [1, 0, 3, 2],  # ymin, xmin, ymax, xmax -> left=1, top=0, right=3, bottom=2
        "type": BOUNDING_BOX_TYPES["BOUNDARIES"], "coordinate_type": COORDINATE_TYPES["RATIO"]}),
        "range": pair}}
    category = {"content": {"content_properties": ("FeatureProperties", {}), "range": pair},
                "associated_files": [{"name": labels_file, "description": LABELS_DESCRIPTION,
                                      "type": ASSOCIATED_FILE_TYPES["TENSOR_VALUE_LABELS"]}]}
    score = {"content": {"content_properties": ("FeatureProperties", {}), "range": pair}}
    number = {"content": {"content_properties": ("FeatureProperties", {})}}
    outputs = []
    for meta, out_name, out_description in zip((location, category, score, number), OUTPUT_NAMES,
                                               _OUTPUT_DESCRIPTIONS):
        outputs.append({"name": out_name, "description": out_description, **meta, "stats": {}})
    subgraph = {"input_tensor_metadata": [image], "output_tensor_metadata": outputs,
                "output_tensor_groups": [{"name": DETECTION_GROUP, "tensor_names": list(OUTPUT_NAMES[:3])}]}
    model = {"name": name, "description": description, "version": version, "author": author,
             "license": license, "subgraph_metadata": [subgraph]}
    return {k: v for k, v in model.items() if v is not None}


def detector_output_roles(model_bytes):
    """For each model output (in order), its role index in OUTPUT_NAMES (0 location .. 3 count).

    Found from the ``TFLite_Detection_PostProcess`` op's outputs, whose order is fixed (boxes, classes,
    scores, count), so any output order of the model is described right.

    Raises:
      ValueError: no single post-processing op, or its outputs are not the model's outputs.
    """
    model = read_model(model_bytes)
    main = model.subgraphs[0]
    ops = [op for op in main.operators if op_name(model, op) == POSTPROCESS_OP]
    if len(ops) != 1:
        raise ValueError(f"expected one {POSTPROCESS_OP} op, found {len(ops)}")
    op_outputs = [int(i) for i in ops[0].outputs]
    model_outputs = [int(i) for i in main.outputs]
    if sorted(op_outputs) != sorted(model_outputs):
        raise ValueError(f"model outputs {model_outputs} are not the {POSTPROCESS_OP} outputs {op_outputs}")
    return [op_outputs.index(t) for t in model_outputs]


def input_dtype_of(model_bytes):
    """``"uint8"`` / ``"float32"`` / other lower-case TFLite type name of the model's only input."""
    model = read_model(model_bytes)
    main = model.subgraphs[0]
    if len(main.inputs) != 1:
        raise ValueError(f"expected one input, got {len(main.inputs)}")
    return TENSOR_TYPE_NAMES[main.tensors[main.inputs[0]].type]


def attach_detector_metadata(model_bytes, labels_bytes, labels_file="labels.txt", **kwargs):
    """Embed object-detector metadata and ``labels.txt`` in a detector ``.tflite`` (bytes -> bytes).

    ``kwargs`` go to ``detector_metadata`` (name, description, version, author, license, norm_mean,
    norm_std). The input stats follow the model's input type; output tensor metadata follow its output
    order (``detector_output_roles``).
    """
    metadata = detector_metadata(input_dtype_of(model_bytes), labels_file=labels_file, **kwargs)
    subgraph = metadata["subgraph_metadata"][0]
    by_role = subgraph["output_tensor_metadata"]
    subgraph["output_tensor_metadata"] = [by_role[r] for r in detector_output_roles(model_bytes)]
    return attach_metadata(model_bytes, metadata, {labels_file: bytes(labels_bytes)})


def write_detector_metadata(tflite_path, labels_path, output_path=None, **kwargs):
    """File form of ``attach_detector_metadata``: writes ``output_path`` (default: in place); returns it."""
    tflite_path = Path(tflite_path)
    output_path = Path(output_path or tflite_path)
    data = attach_detector_metadata(tflite_path.read_bytes(), Path(labels_path).read_bytes(),
                                    labels_file=Path(labels_path).name, **kwargs)
    return atomic_write_bytes(output_path, data)

"""Field slots of the TFLite Model Metadata flatbuffer (the tables this prototype reads and writes).

Format source: ``metadata_schema.fbs`` of tflite-support (``tensorflow_lite_support/metadata``), the same
file that MediaPipe ships as ``mediapipe/tasks/metadata/metadata_schema.fbs`` (schema version 1.5.0, file
identifier ``M001``). Only the facts needed to address fields are recorded here, in our own notation:

* a table is a list of ``(field name, kind)``; the list index is the flatbuffer field slot (the .fbs
  declares no ``id:`` attributes and no deprecated fields, so slots follow declaration order);
* a union field takes two slots, ``<name>_type`` (ubyte) then ``<name>`` (offset), as flatc lays out
  unions; kind ``("union", {type code: table name})``;
* kinds: ``str``, ``bool``, ``byte`` (int8 enum), ``ubyte``, ``int``, ``uint``, ``float``, a table name,
  ``[kind]`` for a vector of that kind.

Tables not used by detector metadata (tokenizer options, audio) are declared so that reading a model that
has them does not fail, and copying metadata keeps them.
"""

METADATA_FILE_IDENTIFIER = b"M001"
# Key of the TFLite ``Model.metadata`` entry whose buffer holds the ModelMetadata flatbuffer.
TFLITE_METADATA_KEY = "TFLITE_METADATA"

# Enums (values from metadata_schema.fbs).
ASSOCIATED_FILE_TYPES = {"UNKNOWN": 0, "DESCRIPTIONS": 1, "TENSOR_AXIS_LABELS": 2, "TENSOR_VALUE_LABELS": 3,
                         "TENSOR_AXIS_SCORE_CALIBRATION": 4, "VOCABULARY": 5, "SCANN_INDEX_FILE": 6}
COLOR_SPACE_TYPES = {"UNKNOWN": 0, "RGB": 1, "GRAYSCALE": 2}
BOUNDING_BOX_TYPES = {"UNKNOWN": 0, "BOUNDARIES": 1, "UPPER_LEFT": 2, "CENTER": 3}
COORDINATE_TYPES = {"RATIO": 0, "PIXEL": 1}
SCORE_TRANSFORMATION_TYPES = {"IDENTITY": 0, "LOG": 1, "INVERSE_LOGISTIC": 2}

CONTENT_PROPERTIES = {1: "FeatureProperties", 2: "ImageProperties", 3: "BoundingBoxProperties",
                      4: "AudioProperties"}
PROCESS_UNIT_OPTIONS = {1: "NormalizationOptions", 2: "ScoreCalibrationOptions", 3: "ScoreThresholdingOptions",
                        4: "BertTokenizerOptions", 5: "SentencePieceTokenizerOptions",
                        6: "RegexTokenizerOptions"}

TABLES = {
    "AssociatedFile": [("name", "str"), ("description", "str"), ("type", "byte"), ("locale", "str"),
                       ("version", "str")],
    "FeatureProperties": [],
    "ImageSize": [("width", "uint"), ("height", "uint")],
    "ImageProperties": [("color_space", "byte"), ("default_size", "ImageSize")],
    "AudioProperties": [("sample_rate", "uint"), ("channels", "uint")],
    "BoundingBoxProperties": [("index", ["uint"]), ("type", "byte"), ("coordinate_type", "byte")],
    "ValueRange": [("min", "int"), ("max", "int")],
    "Content": [("content_properties", ("union", CONTENT_PROPERTIES)), ("range", "ValueRange")],
    "NormalizationOptions": [("mean", ["float"]), ("std", ["float"])],
    "ScoreCalibrationOptions": [("score_transformation", "byte"), ("default_score", "float")],
    "ScoreThresholdingOptions": [("global_score_threshold", "float")],
    "BertTokenizerOptions": [("vocab_file", ["AssociatedFile"])],
    "SentencePieceTokenizerOptions": [("sentencePiece_model", ["AssociatedFile"]),
                                      ("vocab_file", ["AssociatedFile"])],
    "RegexTokenizerOptions": [("delim_regex_pattern", "str"), ("vocab_file", ["AssociatedFile"])],
    "ProcessUnit": [("options", ("union", PROCESS_UNIT_OPTIONS))],
    "Stats": [("max", ["float"]), ("min", ["float"])],
    "TensorGroup": [("name", "str"), ("tensor_names", ["str"])],
    "TensorMetadata": [("name", "str"), ("description", "str"), ("dimension_names", ["str"]),
                       ("content", "Content"), ("process_units", ["ProcessUnit"]), ("stats", "Stats"),
                       ("associated_files", ["AssociatedFile"])],
    "CustomMetadata": [("name", "str"), ("data", ["ubyte"])],
    "SubGraphMetadata": [("name", "str"), ("description", "str"),
                         ("input_tensor_metadata", ["TensorMetadata"]),
                         ("output_tensor_metadata", ["TensorMetadata"]),
                         ("associated_files", ["AssociatedFile"]),
                         ("input_process_units", ["ProcessUnit"]), ("output_process_units", ["ProcessUnit"]),
                         ("input_tensor_groups", ["TensorGroup"]), ("output_tensor_groups", ["TensorGroup"]),
                         ("custom_metadata", ["CustomMetadata"])],
    "ModelMetadata": [("name", "str"), ("description", "str"), ("version", "str"),
                      ("subgraph_metadata", ["SubGraphMetadata"]), ("author", "str"), ("license", "str"),
                      ("associated_files", ["AssociatedFile"]), ("min_parser_version", "str")],
}
ROOT_TABLE = "ModelMetadata"

# Vectors needing more than their natural alignment (``force_align`` in the .fbs).
FORCE_ALIGN = {("CustomMetadata", "data"): 16}

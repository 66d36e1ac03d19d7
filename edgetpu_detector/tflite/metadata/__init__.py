"""TFLite Model Metadata, written and read without TensorFlow or tflite-support: the flatbuffer tables of
``metadata_schema.fbs`` (``schema``, ``tables``), the associated files packed as a zip after the model
(``associated_files``), embedding / reading / copying the metadata of any ``.tflite`` (``model_metadata``), and
the object-detector metadata MediaPipe's ``ObjectDetector`` and the TFLite Task Library require (``detector``).

May import: the rest of ``tflite``, ``core``; ``flatbuffers``, ai_edge_litert's generated schema.
"""

"""TensorFlow-free tools for ``.tflite`` files: flatbuffer reading and editing, a graph view, operator and
tensor info, the interpreter (``ai_edge_litert``, Edge TPU delegate), Coral's Edge TPU compiler, and the
Edge TPU compatibility checker.

May import: ``core``; ai_edge_litert, numpy. Never TensorFlow (checked).
"""

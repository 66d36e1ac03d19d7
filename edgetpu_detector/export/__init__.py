"""Export a trained detector with TensorFlow: the TF OD API serving function, SavedModel, TF1 frozen graph,
float and int8 TFLite ending in ``TFLite_Detection_PostProcess``, the representative dataset, and
``convert`` (every form, the Edge TPU compatibility report and compilation).

May import: ``inference``, ``tflite``, ``ssd``, ``tfrecord``, ``data``, ``images``, ``core``.
"""

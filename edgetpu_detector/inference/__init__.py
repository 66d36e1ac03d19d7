"""Running a detector: one ``Detector`` interface (``detect(uint8 [H, W, 3]) -> Detections`` with label-map
ids) over every form (TFLite on the CPU or the Edge TPU, SavedModel, Keras), loading a model from a path,
frames from images and videos, and ``predict`` (detections, pictures, latency; pre-labels for LabelImg and the
images ranked for labelling).

May import: ``tflite``, ``ssd``, ``data``, ``images``, ``core``. The TFLite detector and ``detections`` never
import TensorFlow (checked); the SavedModel and Keras detectors do.
"""

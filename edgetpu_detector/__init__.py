"""edgetpu-detector: retrain an SSD detector on labelled photos and ship it to the Coral Edge TPU.

The library behind the MLflow steps (``steps/``). One package per concept, layered from the top down; a
package imports only packages below it (checked by import-linter, contracts in ``.importlinter``):

==================  =====================================================================================
``tracking``        MLflow plumbing: tracking store, step runner and cache, failures, logs, registry
``mlflow_models``   the exported detector as MLflow models (TFLite pyfunc, SavedModel)
``training``        the training loop, its input pipeline, augmentation, initialization, strategies
``evaluation``      COCO metrics of every model form on a test split, confusion matrix, charts
``export``          TensorFlow side of export: SavedModel, frozen graph, TFLite conversion, convert step
``inference``       one ``Detector`` interface over every model form; prediction on images and videos
``zoo``             TF Object Detection API model-zoo detectors: registry, download, weight import
``tflite``          TensorFlow-free ``.tflite`` tools: flatbuffer, interpreter, Edge TPU compiler and checker
``ssd``             the SSD concepts: anchors, box coder, box ops, matching, losses, NMS, model builders
``data``            labelled datasets: formats, checks, split, label map, reports, the preprocess step
``tfrecord``        the TF OD API ``tf.Example`` schema: records, encoding, writing, reading, shards
``images``          decoding image files (one decoder, one pixel limit), JPEG bytes, arrays, drawing
``core``            environment, atomic writes, hashing, parameter values, locks, signals, full disks
==================  =====================================================================================

Nothing in the library reads ``sys.argv``; below ``tracking`` and ``mlflow_models`` nothing imports MLflow.
"""

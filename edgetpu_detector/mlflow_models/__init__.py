"""The exported detector as MLflow models: the TFLite pyfunc model (no TensorFlow; served with
``mlflow models serve``), the SavedModel logged with ``mlflow.tensorflow``, and logging both from a convert
run.

May import: ``export``, ``inference``, ``tflite``, ``ssd``, ``tfrecord``, ``data``, ``images``, ``core``.
"""

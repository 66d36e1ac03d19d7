"""Evaluation of a detector on a test split: detections of every model form on the same pixels, COCO metrics
through pycocotools, the cost of int8 quantization, the confusion matrix, charts and TensorBoard images.

May import: ``export``, ``inference``, ``ssd``, ``tfrecord``, ``data``, ``images``, ``core``.
"""

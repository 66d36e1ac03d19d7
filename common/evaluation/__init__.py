"""Evaluation: running a detector over a test split, COCO metrics, and pictures of the detections."""

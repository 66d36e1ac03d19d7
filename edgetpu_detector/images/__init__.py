"""Images: the one decoder of image files and bytes (EXIF orientation, RGB, the pixel limit against
decompression bombs), JPEG bytes for TFRecords, uint8 array checks and resizing, and drawing detections.

May import: ``core``; Pillow, numpy. Never TensorFlow.
"""

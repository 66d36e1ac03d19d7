"""The ``TFLite_Detection_PostProcess`` custom op as a ``.tflite`` holds it: its name, its outputs and how
clients find them. Declared once for the exporter, the checker, the metadata writer and the runners.

Source: TFLite's ``kernels/detection_postprocess.cc``. Outputs, in this order (the order pycoral's
``adapters.detect``, Frigate and most apps read by position): boxes float32 [1, N, 4] ymin, xmin, ymax, xmax
normalized, NOT clipped; classes float32 [1, N] 0-based class index (label-map id - 1,
``edgetpu_detector.core.class_ids``); scores float32 [1, N]; count float32 [1]. ``N = max_detections``.

Slots past ``count`` are left unwritten by the op's fast NMS (uninitialized memory) and zeroed by its regular
NMS; with a score threshold of 0 in the op every slot holds a real detection (see
``edgetpu_detector.export.postprocess_op``).
"""

POSTPROCESS_OP = "TFLite_Detection_PostProcess"
OUTPUT_ROLES = ("boxes", "classes", "scores", "count")
# Names given to the four model outputs (as in TF1 OD API ``.tflite`` files), in output order.
OUTPUT_NAMES = (POSTPROCESS_OP, f"{POSTPROCESS_OP}:1", f"{POSTPROCESS_OP}:2", f"{POSTPROCESS_OP}:3")
# Signature output keys of the same four tensors. pycoral's detect adapter reads a model that has a signature
# by these keys -- output_0 count, output_1 scores, output_2 classes, output_3 boxes: the TF2 OD API exporter's
# layout -- and a model without one by position (boxes, classes, scores, count). Our files satisfy both.
SIGNATURE_KEYS = ("output_3", "output_2", "output_1", "output_0")

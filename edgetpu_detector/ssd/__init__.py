"""The SSD detector's concepts, one file each: anchors, box coder, box ops (IoU, corner/center forms),
target assignment (matching), losses, post-processing (decode + NMS), the input resizer, the Keras model
builders (``models/``) and the files a trained detector is saved as (``checkpoint``).

May import: ``core``; TensorFlow, Keras, numpy.
"""

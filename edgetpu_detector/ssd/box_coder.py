"""Faster R-CNN box coder: anchor-relative box encodings, the regression targets of SSD.

Source: Ren et al., "Faster R-CNN" (NIPS 2015), eq. 2, with the target scaling of the TF Object Detection
API's ``box_coders/faster_rcnn_box_coder.py`` (``y_scale=10, x_scale=10, h_scale=5, w_scale=5`` in every
SSD-MobileNet config). The same scales are attributes of TFLite's ``TFLite_Detection_PostProcess`` op.

    ty = 10 * (y - ya) / ha      tx = 10 * (x - xa) / wa
    th = 5 * log(h / ha)         tw = 5 * log(w / wa)

Encodings are ordered ``ty, tx, th, tw``, as the TF OD API and the TFLite op expect.
"""
from dataclasses import dataclass

import tensorflow as tf

_EPSILON = 1e-8


@dataclass(frozen=True)
class BoxCoder:
    """Encoder/decoder between corner boxes and anchor-relative encodings (works on tf tensors)."""

    y_scale: float = 10.0
    x_scale: float = 10.0
    h_scale: float = 5.0
    w_scale: float = 5.0

    @property
    def scales(self):
        """The four scales as a tuple ``(y, x, h, w)``."""
        return (self.y_scale, self.x_scale, self.h_scale, self.w_scale)

    def encode(self, boxes, anchors):
        """Encode boxes relative to anchors.

        Args:
          boxes: float32 [..., N, 4] ymin, xmin, ymax, xmax, normalized to [0, 1].
          anchors: float32 [N, 4] ycenter, xcenter, height, width, normalized.

        Returns:
          float32 [..., N, 4] encodings ty, tx, th, tw.
        """
        ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
        ya, xa, ha, wa = tf.unstack(anchors, axis=-1)
        h = tf.maximum(ymax - ymin, _EPSILON)
        w = tf.maximum(xmax - xmin, _EPSILON)
        ha = tf.maximum(ha, _EPSILON)
        wa = tf.maximum(wa, _EPSILON)
        yc = ymin + 0.5 * h
        xc = xmin + 0.5 * w
        return tf.stack([
            self.y_scale * (yc - ya) / ha,
            self.x_scale * (xc - xa) / wa,
            self.h_scale * tf.math.log(h / ha),
            self.w_scale * tf.math.log(w / wa),
        ], axis=-1)

    def decode(self, encodings, anchors):
        """Decode encodings back to corner boxes.

        Args:
          encodings: float32 [..., N, 4] ty, tx, th, tw.
          anchors: float32 [N, 4] ycenter, xcenter, height, width, normalized.

        Returns:
          float32 [..., N, 4] ymin, xmin, ymax, xmax, normalized (not clipped).
        """
        ty, tx, th, tw = tf.unstack(encodings, axis=-1)
        ya, xa, ha, wa = tf.unstack(anchors, axis=-1)
        h = tf.exp(th / self.h_scale) * ha
        w = tf.exp(tw / self.w_scale) * wa
        yc = ty / self.y_scale * ha + ya
        xc = tx / self.x_scale * wa + xa
        return tf.stack([yc - 0.5 * h, xc - 0.5 * w, yc + 0.5 * h, xc + 0.5 * w], axis=-1)

"""MobileNet feature extractors for SSD, taken from ``keras.applications`` at the TF OD API's tap points.

The TF Object Detection API's ``ssd_mobilenet_v1`` reads ``Conv2d_11_pointwise`` (stride 16) and
``Conv2d_13_pointwise`` (stride 32); ``ssd_mobilenet_v2`` / ``ssdlite_mobilenet_v2`` read
``layer_15/expansion_output`` (stride 16) and ``layer_19`` (stride 32). In ``keras.applications`` these are
``conv_pw_11_relu`` / ``conv_pw_13_relu`` and ``block_13_expand_relu`` / ``out_relu``. Keras's MobileNetV2
pads stride-2 convolutions so that outputs equal TF "SAME" padding; its MobileNet v1 does not (it floors odd
sizes), so v1 comes from ``edgetpu_detector.ssd.models.mobilenet_v1``, slim-padded under Keras's layer names.
"""
import math

import keras

from edgetpu_detector.ssd.models.mobilenet_v1 import mobilenet_v1


def _mobilenet_v2(image_size, alpha, weights):
    return keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3), alpha=alpha,
                                          include_top=False, weights=weights)


# name -> (constructor(image_size, alpha, weights), [stride-16 layer, stride-32 layer])
BACKBONES = {
    "mobilenet_v1": (mobilenet_v1, ["conv_pw_11_relu", "conv_pw_13_relu"]),
    "mobilenet_v2": (_mobilenet_v2, ["block_13_expand_relu", "out_relu"]),
}


def build_backbone(name, image_size, alpha=1.0, weights=None):
    """Build a MobileNet feature extractor.

    Args:
      name: ``"mobilenet_v1"`` or ``"mobilenet_v2"``.
      image_size: int, square input side in pixels.
      alpha: float, width multiplier.
      weights: ``None`` (random), ``"imagenet"`` (downloaded and cached by Keras), or a path to a Keras
        ``.h5`` weights file of the same architecture and alpha.

    Returns:
      keras.Model mapping float32 [B, image_size, image_size, 3] in [-1, 1] to the two feature maps
      (stride 16 and stride 32), each float32 [B, h, w, c].

    Raises:
      ValueError: unknown backbone name.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; expected one of {sorted(BACKBONES)}")
    constructor, taps = BACKBONES[name]
    base = constructor(image_size, alpha, weights)
    outputs = [base.get_layer(tap).output for tap in taps]
    return keras.Model(base.input, outputs, name=f"{name}_features")


def backbone_stages(backbone, image_size):
    """The backbone's layers grouped by stage: the resolution level (output stride) they compute at.

    A stage is the set of layers whose output stride ``image_size / output side`` rounds to the same power of
    two: MobileNet v1 and v2 at 300x300 have five, at strides 2, 4, 8, 16 and 32 (torchvision and the TF Object
    Detection API freeze backbones by such stages when fine-tuning). The input layer belongs to none.

    Args:
      backbone: the feature extractor, a keras.Model built by ``build_backbone``.
      image_size: int, its square input side in pixels.

    Returns:
      list of ``(stride: int, layers: list of keras.layers.Layer)``, from the first stage (stride 2) to the last.
    """
    stages = {}
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = layer.output.shape
        stride = 2 ** max(0, round(math.log2(image_size / shape[1])))
        stages.setdefault(stride, []).append(layer)
    return sorted(stages.items())

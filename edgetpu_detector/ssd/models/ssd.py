"""SSD and SSDLite detectors on MobileNet backbones (Keras 3 / TF2).

Architecture sources: Liu et al., "SSD" (ECCV 2016); Sandler et al., "MobileNetV2" (CVPR 2018), section 6.2
(SSDLite: every regular convolution of the extra layers and the prediction heads replaced by a depthwise
separable one); the TF Object Detection API's ``ssd_mobilenet_v1_coco``, ``ssd_mobilenet_v2_coco`` and
``ssdlite_mobilenet_v2_coco`` configs, whose feature-map layout we follow:

* two backbone feature maps (stride 16 and 32) then four extra layers of depth 512, 256, 256, 128, each a
  1x1 convolution to half the depth followed by a stride-2 3x3 convolution (depthwise separable in SSDLite);
* per feature map, a box head and a class head; SSD uses 1x1 convolutions, SSDLite a 3x3 depthwise
  convolution with batch norm and ReLU6 then a 1x1 convolution;
* ReLU6 everywhere (Edge TPU friendly: no hard-swish), batch norm with epsilon 1e-3;
* class-head bias initialised to -4.6 (prior probability 0.01, Lin et al., "Focal Loss", section 4.1).

The model takes float32 pixels in [0, 255] and normalizes them itself (``x / 127.5 - 1``), so that the same
graph can be quantized with a uint8 input of scale 1. Outputs:

* ``box_encodings``: float32 [B, A, 4], ``ty, tx, th, tw`` relative to the anchors (``edgetpu_detector.ssd.box_coder``);
* ``class_logits``: float32 [B, A, num_classes + 1]; column 0 is the background, column ``k`` the
  label-map id ``k``. Scores are ``sigmoid(class_logits)``.
"""
from dataclasses import asdict, dataclass, field
import json

import keras

from edgetpu_detector.ssd.anchors import AnchorConfig, generate_anchors, num_anchors_per_location
from edgetpu_detector.ssd.box_coder import BoxCoder
from edgetpu_detector.ssd.models.backbones import build_backbone

# model name -> (backbone, SSDLite?)
_MODELS = {
    "ssd_mobilenet_v1": ("mobilenet_v1", False),
    "ssd_mobilenet_v2": ("mobilenet_v2", False),
    "ssdlite_mobilenet_v2": ("mobilenet_v2", True),
}
MODEL_NAMES = tuple(sorted(_MODELS))

EXTRA_LAYER_DEPTHS = (512, 256, 256, 128)
MIN_DEPTH = 16
CLASS_BIAS_INIT = -4.6
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.997


@dataclass
class DetectorConfig:
    """Everything needed to rebuild a detector and interpret its outputs; saved as ``detector.json``."""

    model: str = "ssdlite_mobilenet_v2"
    image_size: int = 300
    num_classes: int = 1
    alpha: float = 1.0
    anchors: AnchorConfig = field(default_factory=AnchorConfig)
    box_coder: BoxCoder = field(default_factory=BoxCoder)

    def __post_init__(self):
        if self.model not in _MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {', '.join(MODEL_NAMES)}")
        if self.image_size < 32 or self.image_size % 2:
            raise ValueError(f"image_size must be an even number >= 32, got {self.image_size}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if isinstance(self.anchors, dict):
            self.anchors = AnchorConfig(**{k: tuple(map(tuple, v)) if k == "lowest_layer_boxes" else
                                           (tuple(v) if isinstance(v, list) else v)
                                           for k, v in self.anchors.items()})
        if isinstance(self.box_coder, dict):
            self.box_coder = BoxCoder(**self.box_coder)

    @property
    def feature_map_sizes(self):
        """``[(h, w), ...]`` of the six feature maps, from stride 16 to the 1x1 (or smallest) map."""
        size = self.image_size
        # Four stride-2 backbone convolutions reach stride 16; every convolution pads like TF "SAME" (ceil),
        # as TF-slim does (see edgetpu_detector.ssd.models.mobilenet_v1).
        for _ in range(4):
            size = -(-size // 2)
        sizes = [(size, size)]
        size = -(-size // 2)
        for _ in range(1 + len(EXTRA_LAYER_DEPTHS)):
            sizes.append((size, size))
            size = -(-size // 2)
        return sizes

    def generate_anchors(self):
        """float32 [A, 4] anchors ``ycenter, xcenter, height, width`` (see ``edgetpu_detector.ssd.anchors``)."""
        return generate_anchors(self.feature_map_sizes, self.anchors)

    def to_json(self):
        """JSON text of this config."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        """Parse the text written by ``to_json``. Raises ValueError on bad content."""
        return cls(**json.loads(text))


def _depth(depth, alpha):
    return max(int(depth * alpha), MIN_DEPTH)


def _conv_bn_relu6(x, filters, kernel, stride, name):
    x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x)


def _depthwise_bn_relu6(x, stride, name):
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x)


def _extra_layers(feature, alpha, lite):
    """The four stride-2 extra feature maps built on the last backbone map (TF OD API layout)."""
    maps = []
    x = feature
    for i, depth in enumerate(EXTRA_LAYER_DEPTHS, start=2):
        depth = _depth(depth, alpha)
        x = _conv_bn_relu6(x, depth // 2, 1, 1, name=f"extra_{i}_1x1_{depth // 2}")
        if lite:
            x = _depthwise_bn_relu6(x, 2, name=f"extra_{i}_3x3_s2_depthwise")
            x = _conv_bn_relu6(x, depth, 1, 1, name=f"extra_{i}_3x3_s2_{depth}")
        else:
            x = _conv_bn_relu6(x, depth, 3, 2, name=f"extra_{i}_3x3_s2_{depth}")
        maps.append(x)
    return maps


def _head(feature, outputs_per_anchor, anchors_per_location, lite, name, bias_init):
    """One prediction head: [B, h, w, c] -> [B, h * w * k, outputs_per_anchor]."""
    x = feature
    if lite:
        x = _depthwise_bn_relu6(x, 1, name=f"{name}_depthwise")
    kernel = 1
    x = keras.layers.Conv2D(anchors_per_location * outputs_per_anchor, kernel, padding="same",
                            bias_initializer=keras.initializers.Constant(bias_init),
                            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.03),
                            name=name)(x)
    return keras.layers.Reshape((-1, outputs_per_anchor), name=f"{name}_reshape")(x)


def build_detector(config, backbone_weights=None):
    """Build the Keras SSD / SSDLite detector described by ``config``.

    Args:
      config: DetectorConfig.
      backbone_weights: ``None``, ``"imagenet"`` or a path to a Keras backbone ``.h5`` (see
        ``edgetpu_detector.ssd.models.backbones.build_backbone``).

    Returns:
      keras.Model: input float32 [B, S, S, 3] pixels in [0, 255] (S = ``config.image_size``); outputs
      ``[box_encodings float32 [B, A, 4], class_logits float32 [B, A, num_classes + 1]]`` where
      ``A == len(config.generate_anchors())``.
    """
    backbone_name, lite = _MODELS[config.model]
    size = config.image_size
    images = keras.Input((size, size, 3), dtype="float32", name="images")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize")(images)
    backbone = build_backbone(backbone_name, size, config.alpha, backbone_weights)
    features = list(backbone(x))
    features += _extra_layers(features[-1], config.alpha, lite)
    per_location = num_anchors_per_location(len(features), config.anchors)
    boxes, classes = [], []
    for i, (feature, k) in enumerate(zip(features, per_location)):
        boxes.append(_head(feature, 4, k, lite, f"box_head_{i}", 0.0))
        classes.append(_head(feature, config.num_classes + 1, k, lite, f"class_head_{i}", CLASS_BIAS_INIT))
    # float32 outputs under every dtype policy: a mixed-precision model computes its loss in float32
    box_encodings = keras.layers.Concatenate(axis=1, dtype="float32", name="box_encodings")(boxes)
    class_logits = keras.layers.Concatenate(axis=1, dtype="float32", name="class_logits")(classes)
    model = keras.Model(images, [box_encodings, class_logits], name=config.model)
    expected = [tuple(int(d) for d in f.shape[1:3]) for f in features]
    if expected != config.feature_map_sizes:
        raise AssertionError(f"feature maps {expected} differ from the anchor grid {config.feature_map_sizes}")
    return model


def backbone_of(model):
    """The nested backbone sub-model of a detector built by ``build_detector`` (for freezing / weights)."""
    return next(layer for layer in model.layers if layer.name.endswith("_features"))

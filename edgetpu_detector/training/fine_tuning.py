"""What a run fine-tunes: whether batch norm is frozen, and which backbone stages keep their pretrained weights.

Frozen backbone stages (``trainable_backbone_stages``): fine-tuning a pretrained detector, the first stages of
its backbone (edges, textures: Yosinski et al., "How transferable are features in deep neural networks?", 2014)
may keep their weights, as torchvision's ``trainable_backbone_layers`` lets them. Their variables leave
``model.trainable_variables``, so the gradient tape never computes their backward pass, the costliest part of
a high-resolution stage: SSDLite-MobileNetV2 300x300 at batch 8 on 2 CPU cores trains 1.5x faster with the
last two of five stages training, ~1.9x with the last one (``bench.train_bench --configs stages5,stages2``).
Under a time cap that buys epochs, at some cost in what the detector can reach: measured on real data it is a
trade (README, Transfer learning), so the default (``all``) trains every stage.
"""
from dataclasses import dataclass

from edgetpu_detector.core.values import parse_bool, parse_whole_number
from edgetpu_detector.ssd.models.backbones import backbone_stages
from edgetpu_detector.ssd.models.ssd import backbone_of
from edgetpu_detector.training.batch_norm import freeze_batch_norm, set_batch_norm_momentum
from edgetpu_detector.training.initialize import DETECTOR_KINDS, NONE

ALL = "all"


def parse_trainable_stages(value):
    """``"all"`` -> ``"all"``, ``"2"`` -> 2.

    Raises:
      ValueError: neither all nor a whole number >= 0 (the message quotes the value).
    """
    if str(value).strip().lower() == ALL:
        return ALL
    try:
        number = parse_whole_number(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ValueError(f"trainable_backbone_stages must be all or a whole number >= 0, got {value!r}")
    return number


def resolve_trainable_stages(setting, num_stages):
    """The number of backbone stages that train (the last ones): ``setting`` (``all`` or a number), at most
    ``num_stages``."""
    value = parse_trainable_stages(setting)
    return num_stages if value == ALL else min(value, num_stages)


def resolve_freeze_batch_norm(setting, kind):
    """``auto`` -> freeze when starting from a whole pretrained detector; else the boolean given."""
    if str(setting).strip().lower() == "auto":
        return kind in DETECTOR_KINDS
    return parse_bool(setting)


@dataclass(frozen=True)
class FineTuning:
    """What ``prepare_fine_tuning`` set: ``batch_norm_frozen``; ``trainable_stages`` of ``num_stages`` backbone
    stages train; ``frozen_strides`` (ints) and ``frozen_layers`` (count) are those kept as they were."""

    batch_norm_frozen: bool
    trainable_stages: int
    num_stages: int
    frozen_strides: tuple
    frozen_layers: int

    def line(self):
        """One console line."""
        if not self.frozen_strides:
            return f"retrain: backbone: all {self.num_stages} stages train"
        strides = ", ".join(str(s) for s in self.frozen_strides)
        return (f"retrain: backbone: the first {len(self.frozen_strides)} of {self.num_stages} stages (strides "
                f"{strides}; {self.frozen_layers} layers) keep their weights, the last {self.trainable_stages} "
                f"train (trainable_backbone_stages)")

    def tags(self):
        """Run tags."""
        return {"batch_norm_frozen": str(self.batch_norm_frozen).lower(),
                "train/trainable_backbone_stages": f"{self.trainable_stages}/{self.num_stages}"}


def prepare_fine_tuning(model, image_size, freeze_bn_setting, trainable_stages_setting, batch_norm_momentum, kind):
    """Freeze batch norm or set its momentum, and freeze the first backbone stages (``layer.trainable =
    False``: weights unchanged, batch norm in inference mode). Call before building the optimizer.

    Args:
      model: a detector of ``edgetpu_detector.ssd.models.ssd.build_detector``.
      image_size: int, its input side in pixels.
      freeze_bn_setting: ``auto``, true or false (``TrainConfig.freeze_batch_norm``).
      trainable_stages_setting: ``all`` or a whole number (``TrainConfig.trainable_backbone_stages``).
      batch_norm_momentum: float, for batch norm that trains.
      kind: how the detector was initialized (``edgetpu_detector.training.initialize.describe``).

    Returns:
      FineTuning.

    Raises:
      ValueError: frozen stages of a random start (``kind`` ``none``): they would keep random weights.
    """
    frozen_bn = resolve_freeze_batch_norm(freeze_bn_setting, kind)
    if frozen_bn:
        freeze_batch_norm(model)
    else:
        set_batch_norm_momentum(model, batch_norm_momentum)
    stages = backbone_stages(backbone_of(model), image_size)
    trainable = resolve_trainable_stages(trainable_stages_setting, len(stages))
    if trainable < len(stages) and kind == NONE:
        raise ValueError(f"trainable_backbone_stages={trainable_stages_setting} would freeze {len(stages) - trainable} "
                         f"backbone stages at their random initial weights (base_weights none): use all, or start "
                         f"from pretrained weights")
    frozen = stages[:len(stages) - trainable]
    for _, layers in frozen:
        for layer in layers:
            layer.trainable = False
    return FineTuning(frozen_bn, trainable, len(stages), tuple(stride for stride, _ in frozen),
                      sum(len(layers) for _, layers in frozen))

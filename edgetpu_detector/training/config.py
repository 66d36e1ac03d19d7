"""The settings of one training run (``TrainConfig``) and its learning-rate schedule.

Fields named like a ``retrain`` parameter of the MLproject have its default (a test checks that they agree).
"""
from dataclasses import dataclass

import keras

from edgetpu_detector.training.augment import AUGMENTATIONS, AugmentConfig
from edgetpu_detector.training.precision import PRECISIONS


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings. Learning rate: linear warmup to ``learning_rate``, then cosine decay to 0.

    ``augmentations``: names from ``AUGMENTATIONS`` (SSD random crop, horizontal flip, photometric jitter);
    empty for none.
    ``freeze_batch_norm``: ``"auto"`` freezes every batch-norm layer (inference-mode statistics, no
    gamma/beta updates) when training starts from a pretrained detector, whose statistics are better than
    those of small batches; ``"true"`` / ``"false"`` force it. Unfrozen batch norm uses momentum
    ``batch_norm_momentum`` and is re-estimated at the end over ``precise_bn_batches`` batches.
    ``validation_every``: steps between validation mAP on the validation split (0: never);
    ``early_stopping_patience``: validations without a better ``val/mAP`` before stopping (0: never).
    ``log_every``, ``checkpoint_every``, ``image_every``: steps between metrics, checkpoints and TensorBoard
    detection images (0: no images).
    ``strategy``: ``edgetpu_detector.training.strategy``; ``batch_size`` is the global batch, split evenly across
    the replicas. ``precision``: ``edgetpu_detector.training.precision``. ``jit_compile``: compile the forward
    and backward pass with XLA: ``"auto"`` on GPUs only (Keras's own default; on a 2-core CPU it trained 25 times
    slower), ``"true"``, ``"false"``.
    """

    num_steps: int = 300
    batch_size: int = 8
    learning_rate: float = 0.001
    warmup_steps: int = 30
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    seed: int = 42
    augmentations: tuple = AUGMENTATIONS
    freeze_backbone_steps: int = 0
    freeze_batch_norm: str = "auto"
    batch_norm_momentum: float = 0.9
    precise_bn_batches: int = 16
    validation_every: int = 0
    early_stopping_patience: int = 0
    keep_best: bool = True
    image_every: int = 100
    strategy: str = "default"
    precision: str = "auto"
    jit_compile: str = "auto"

    def __post_init__(self):
        AugmentConfig.from_names(self.augmentations)  # validates the names
        if str(self.freeze_batch_norm).lower() not in ("auto", "true", "false"):
            raise ValueError(f"freeze_batch_norm must be auto, true or false, got {self.freeze_batch_norm!r}")
        if str(self.jit_compile).strip().lower() not in ("auto", "true", "false"):
            raise ValueError(f"jit_compile must be auto, true or false, got {self.jit_compile!r}")
        if str(self.precision).strip().lower() not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}")
        for name in ("num_steps", "batch_size", "log_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def augment_config(self):
        """The AugmentConfig these settings describe, or None for no augmentation."""
        return AugmentConfig.from_names(self.augmentations)


def learning_rate_schedule(config):
    """keras LearningRateSchedule: linear warmup from 0 over ``config.warmup_steps``, then cosine decay to 0
    at ``config.num_steps`` (Loshchilov & Hutter, "SGDR", 2017; Goyal et al. 2017 for the warmup)."""
    warmup = min(config.warmup_steps, max(config.num_steps - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=max(config.num_steps - warmup, 1), alpha=0.0,
        warmup_target=config.learning_rate, warmup_steps=warmup)

"""The settings of one training run (``TrainConfig``) and its learning-rate schedule.

Fields named like a ``retrain`` parameter of the MLproject have its default (a test checks that they agree).
"""
from dataclasses import dataclass
import math

import keras
import tensorflow as tf

from edgetpu_detector.training.augment import DEFAULT_AUGMENTATIONS, AugmentConfig
from edgetpu_detector.training.fine_tuning import parse_trainable_stages
from edgetpu_detector.training.precision import PRECISIONS


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings. Learning rate: linear warmup to ``learning_rate``, then cosine decay to 0.

    ``augmentations``: names from ``AUGMENTATIONS`` (SSD random crop, horizontal flip, photometric jitter);
    empty for none; by default flip and photometric jitter (``DEFAULT_AUGMENTATIONS``: why the crop is off).
    ``freeze_batch_norm``: ``"auto"`` freezes every batch-norm layer (inference-mode statistics, no
    gamma/beta updates) when training starts from a pretrained detector, whose statistics are better than
    those of small batches; ``"true"`` / ``"false"`` force it. Unfrozen batch norm uses momentum
    ``batch_norm_momentum`` and is re-estimated at the end over ``precise_bn_batches`` batches.
    ``trainable_backbone_stages``: ``"all"``, or how many of the backbone's stages (resolution levels, counted
    from the deepest) train; the first ones keep their weights and cost no backward pass
    (``edgetpu_detector.training.fine_tuning``).
    ``freeze_backbone_steps``: the trainable backbone stages wait that many steps (extra layers and heads only).
    ``validation_every``: steps between validation mAP on the validation split (0: never);
    ``early_stopping_patience``: validations without a better ``val/mAP`` before stopping (0: never).
    ``max_train_minutes``: wall-time cap of training (validation included; 0: none): once training has measured
    its speed the plan shrinks to the steps that fit and the learning-rate schedule follows
    (``edgetpu_detector.training.budget``); the pipeline's ``auto`` values come from ``plan_budget``.
    ``log_every``, ``checkpoint_every``, ``image_every``: steps between metrics, checkpoints and TensorBoard
    detection images (0: no images).
    ``strategy``: ``edgetpu_detector.training.strategy``; ``batch_size`` is the global batch, split evenly across
    the replicas. ``precision``: ``edgetpu_detector.training.precision``. ``jit_compile``: compile the forward
    and backward pass with XLA: ``"auto"`` on GPUs only (Keras's own default; on a 2-core CPU it trained 25 times
    slower), ``"true"``, ``"false"``.
    """

    num_steps: int = 300
    batch_size: int = 8
    learning_rate: float = 0.0005
    warmup_steps: int = 30
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    seed: int = 42
    augmentations: tuple = DEFAULT_AUGMENTATIONS
    freeze_backbone_steps: int = 0
    freeze_batch_norm: str = "auto"
    trainable_backbone_stages: str = "all"
    batch_norm_momentum: float = 0.9
    precise_bn_batches: int = 16
    validation_every: int = 0
    early_stopping_patience: int = 0
    max_train_minutes: float = 0.0
    keep_best: bool = True
    image_every: int = 100
    strategy: str = "default"
    precision: str = "auto"
    jit_compile: str = "auto"

    def __post_init__(self):
        AugmentConfig.from_names(self.augmentations)  # validates the names
        if str(self.freeze_batch_norm).lower() not in ("auto", "true", "false"):
            raise ValueError(f"freeze_batch_norm must be auto, true or false, got {self.freeze_batch_norm!r}")
        parse_trainable_stages(self.trainable_backbone_stages)  # validates the value
        if str(self.jit_compile).strip().lower() not in ("auto", "true", "false"):
            raise ValueError(f"jit_compile must be auto, true or false, got {self.jit_compile!r}")
        if str(self.precision).strip().lower() not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}")
        for name in ("num_steps", "batch_size", "log_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "validation_every", "early_stopping_patience", "max_train_minutes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def augment_config(self):
        """The AugmentConfig these settings describe, or None for no augmentation."""
        return AugmentConfig.from_names(self.augmentations)


class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to ``peak`` over ``warmup_steps``, then cosine decay to 0 at ``total_steps``
    (Loshchilov & Hutter, "SGDR", 2017; Goyal et al. 2017 for the warmup) -- keras ``CosineDecay`` with
    warmup, except that ``warmup_steps`` and ``total_steps`` may be ``tf.Variable``: a run re-planned to fewer
    steps (time cap) warms up over its share of the new plan and still decays to 0 at its new end."""

    def __init__(self, peak, warmup_steps, total_steps):
        self.peak, self.warmup_steps, self.total_steps = float(peak), warmup_steps, total_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        total = tf.cast(tf.convert_to_tensor(self.total_steps), tf.float32)
        warmup = tf.minimum(tf.cast(tf.convert_to_tensor(self.warmup_steps), tf.float32), tf.maximum(total - 1.0, 0.0))
        warm = self.peak * step / tf.maximum(warmup, 1.0)
        progress = tf.clip_by_value((step - warmup) / tf.maximum(total - warmup, 1.0), 0.0, 1.0)
        decayed = 0.5 * self.peak * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < warmup, warm, decayed)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": int(tf.convert_to_tensor(self.warmup_steps).numpy()),
                "total_steps": int(tf.convert_to_tensor(self.total_steps).numpy())}


def learning_rate_schedule(config, total_steps=None, warmup_steps=None):
    """``WarmupCosineDecay`` of ``config``: peak ``config.learning_rate``, warmup over ``warmup_steps``, decay to 0
    at ``total_steps`` (ints or ``tf.Variable``; defaults ``config.warmup_steps``, ``config.num_steps``)."""
    return WarmupCosineDecay(config.learning_rate, config.warmup_steps if warmup_steps is None else warmup_steps,
                             config.num_steps if total_steps is None else total_steps)

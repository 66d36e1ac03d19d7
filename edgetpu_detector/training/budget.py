"""The training budget: how many steps, how much warmup, how often to validate and when to give up, from the
size of the training split (``plan_budget``), and the learning-rate schedule that follows the resulting steps.

The rule (``num_steps=auto``), for real data:

    steps_per_epoch = ceil(num_train / batch_size)
    num_steps       = clamp(ceil(epochs * steps_per_epoch), MIN_AUTO_STEPS, MAX_AUTO_STEPS)

and the wall-time cap ``max_train_minutes`` may shorten it once training has measured its own speed, and give
steps back (never beyond this budget) once a slow stretch has passed (``edgetpu_detector.training.loop``: the
schedule is re-planned then, so the learning rate still decays to 0).
Why: a fixed 300 steps is ~23 epochs of a 100-image set, which left a pretrained SSDLite far from converged
(issue 17: 4 classes, 104 training images: Keras AP50 0.510 after 300 steps, 0.820 after 1200 = 92 epochs).
``DEFAULT_EPOCHS`` = 100 puts that set at 1300 steps; ``MIN_AUTO_STEPS`` keeps a tiny set (fruit_nuts: 16
images, 2 steps an epoch) from stopping after a few hundred images; ``MAX_AUTO_STEPS`` bounds a large set on a
fast machine, where the time cap would not. On 2 idle CPU cores (2.64 steps/s at batch 8, 300x300) the
default cap of 10 minutes (~1500 steps) binds from ~120 training images on, so that the whole pipeline stays
within ~15 minutes (a 6-class set of 266 training images then needs several times that to converge; frozen
backbone stages, ``trainable_backbone_stages``, train 1.5x faster: README, Training budget and validation).

The synthetic demo (no ``data_dir``) keeps its fixed ``SYNTHETIC_STEPS`` and no validation: it is there to
show the chain working in a few minutes.

Defaults derived with it (``auto``): warmup ``WARMUP_FRACTION`` of the steps (30 of 300, as before);
validation every tenth of the run (at least every ``MIN_VALIDATION_EVERY`` steps) when a val split exists;
early stopping after ``DEFAULT_PATIENCE`` validations without a better val mAP.
"""
from dataclasses import dataclass
import math

from edgetpu_detector.core.values import parse_whole_number

DEFAULT_EPOCHS = 100
MIN_AUTO_STEPS, MAX_AUTO_STEPS = 300, 3000
SYNTHETIC_STEPS = 300
WARMUP_FRACTION = 0.1
VALIDATIONS_PER_RUN = 10
MIN_VALIDATION_EVERY = 25
DEFAULT_PATIENCE = 4
GROW_MARGIN = 0.05  # a re-plan gives steps back only when this share more fit: no schedule jitter
SHRINK_MARGIN = 0.01  # ... and takes them away when this share fewer fit (the cap's hard stop catches the rest)


def _auto(value):
    return str(value).strip().lower() == "auto"


def _count(name, value, minimum=0):
    try:
        number = parse_whole_number(value)
    except ValueError:
        raise ValueError(f"{name} must be auto or a whole number >= {minimum}, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be auto or a whole number >= {minimum}, got {value!r}")
    return number


@dataclass(frozen=True)
class Budget:
    """A planned training run: ``num_steps``, ``warmup_steps``, ``validation_every`` (0: none),
    ``early_stopping_patience`` (0: never), what they follow from (``num_train`` images, ``batch_size``,
    ``steps_per_epoch``, ``epochs`` = num_steps / steps_per_epoch) and ``rule`` / ``validation_note`` in words."""

    num_steps: int
    warmup_steps: int
    validation_every: int
    early_stopping_patience: int
    num_train: int
    num_val: int
    batch_size: int
    steps_per_epoch: int
    epochs: float
    rule: str
    validation_note: str

    def lines(self):
        """Console lines of the plan."""
        return [f"retrain: budget: {self.num_steps} steps = {self.epochs:.1f} epochs of {self.num_train} training "
                f"images at batch {self.batch_size} ({self.steps_per_epoch} steps an epoch; {self.rule}); "
                f"warmup {self.warmup_steps} steps",
                f"retrain: {self.validation_note}"]

    def metrics(self):
        """``train/budget/...`` numbers as the retrain run logs them."""
        return {"train/budget/num_steps": self.num_steps, "train/budget/epochs": self.epochs,
                "train/budget/steps_per_epoch": self.steps_per_epoch, "train/budget/num_train_images": self.num_train,
                "train/budget/num_val_images": self.num_val, "train/budget/warmup_steps": self.warmup_steps,
                "train/budget/validation_every": self.validation_every,
                "train/budget/early_stopping_patience": self.early_stopping_patience}


def plan_budget(num_train, batch_size, num_steps="auto", epochs=DEFAULT_EPOCHS, warmup_steps="auto",
                validation_every="auto", early_stopping_patience="auto", num_val=0, synthetic=False):
    """Resolve the ``auto`` training parameters for a training split (rule in the module docstring).

    Args:
      num_train: int, images in the training split (>= 1).
      batch_size: int >= 1.
      num_steps, warmup_steps, validation_every, early_stopping_patience: ``auto`` or a whole number (as text
        or number).
      epochs: float > 0, the epochs ``num_steps=auto`` aims at.
      num_val: images in the val split; 0: no validation is possible.
      synthetic: the synthetic demo data (fixed ``SYNTHETIC_STEPS``, no validation by default).

    Returns:
      Budget.

    Raises:
      ValueError: a value that is neither ``auto`` nor a whole number in range, ``epochs`` <= 0, no training
        images, or validation asked for (``validation_every`` > 0) without a val split.
    """
    if num_train < 1:
        raise ValueError(f"no training images to plan a budget for (num_train={num_train})")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    epochs = float(epochs)
    if not epochs > 0:
        raise ValueError(f"epochs must be > 0, got {epochs}")
    per_epoch = math.ceil(num_train / batch_size)
    if _auto(num_steps):
        if synthetic:
            steps, rule = SYNTHETIC_STEPS, f"the synthetic demo's fixed {SYNTHETIC_STEPS} steps"
        else:
            wanted = math.ceil(epochs * per_epoch)
            steps = min(MAX_AUTO_STEPS, max(MIN_AUTO_STEPS, wanted))
            rule = f"auto: {epochs:g} epochs = {wanted} steps" + (
                f", raised to the minimum {MIN_AUTO_STEPS}" if wanted < MIN_AUTO_STEPS else
                f", capped at {MAX_AUTO_STEPS}" if wanted > MAX_AUTO_STEPS else "")
    else:
        steps, rule = _count("num_steps", num_steps, 1), "num_steps given"
    warmup = round(WARMUP_FRACTION * steps) if _auto(warmup_steps) else _count("warmup_steps", warmup_steps)
    if _auto(validation_every):
        if synthetic or num_val == 0:
            every = 0
        else:
            every = max(MIN_VALIDATION_EVERY, round(steps / VALIDATIONS_PER_RUN))
    else:
        every = _count("validation_every", validation_every)
        if every and num_val == 0:
            raise ValueError(f"validation_every={every} asks for validation, but the data has no val split "
                             "(preprocess: give it a val/ folder or split file, or raise val_fraction)")
    if _auto(early_stopping_patience):
        patience = DEFAULT_PATIENCE if every else 0
    else:
        patience = _count("early_stopping_patience", early_stopping_patience)
    if every:
        note = (f"validation: val mAP on {num_val} val images every {every} steps, best weights kept"
                + (f", early stop after {patience} validations without improvement" if patience else ""))
    elif num_val == 0 and not synthetic:
        note = "validation: off (the data has no val split; see the preprocess log for why)"
    else:
        note = "validation: off" + (" (the synthetic demo)" if synthetic else "")
    return Budget(num_steps=steps, warmup_steps=warmup, validation_every=every, early_stopping_patience=patience,
                  num_train=num_train, num_val=num_val, batch_size=batch_size, steps_per_epoch=per_epoch,
                  epochs=steps / per_epoch, rule=rule, validation_note=note)


def replan_steps(budget, planned, step, seconds_per_step, validation_seconds, validation_every, seconds_left):
    """The steps a run can afford in the time left, at most ``budget``: fewer than ``planned`` when over
    ``SHRINK_MARGIN`` of the plan does not fit, more (back towards ``budget``) only when at least ``GROW_MARGIN``
    more fit (a load spike measured early has passed), never fewer than ``step + 1`` while steps remain (a
    re-plan at the last step keeps ``planned``). Between the margins the plan stays: no schedule jitter.

    Args:
      budget: int, the steps of the budget (the most a re-plan may give back).
      planned: int, steps planned so far; step: int, steps done.
      seconds_per_step: float, measured training seconds per step.
      validation_seconds: float, measured seconds of one validation (0 without).
      validation_every: int, steps between validations (0: none).
      seconds_left: float, wall time left under the cap.

    Returns:
      int.
    """
    if step >= planned:
        return planned
    per_step = seconds_per_step + (validation_seconds / validation_every if validation_every else 0.0)
    affordable = min(budget, max(step + 1, step + int(max(seconds_left, 0.0) / max(per_step, 1e-9))))
    if planned - affordable > SHRINK_MARGIN * planned or affordable - planned >= GROW_MARGIN * planned:
        return affordable
    return planned

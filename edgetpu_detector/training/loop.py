"""The SSD training loop: resumable checkpoints, focal + smooth L1 loss, frozen first backbone stages and an
optional frozen backbone for the first steps, batch norm that behaves with small batches, validation with
keep-best and early stopping, a wall-time cap, ``tf.distribute`` strategies, TensorBoard scalars and images,
and a progress bar with ETA.

Time cap (``config.max_train_minutes``): after ``REPLAN_STEP`` steps of this process, after each validation
and at each checkpoint, the plan is fitted to the time left at the measured speed (validation included;
``edgetpu_detector.training.budget.replan_steps``): it shrinks, or grows back towards the budget once a slow
stretch has passed; the learning rate still decays to 0 at the new end. Should the time run out anyway,
training stops at the next step, validates (so keep-best sees those weights) and checkpoints. The elapsed training time and the plan are in the
checkpoint, so a resumed run keeps counting.

Checkpoints are ``tf.train.CheckpointManager`` checkpoints: TensorFlow writes each one under a temporary name,
renames it into place, and only then rewrites the ``checkpoint`` state file (itself written atomically), so a
run killed at any moment resumes from the last complete checkpoint with the same step counter, learning-rate
schedule and early-stopping state. MLflow is not imported here: the caller passes ``on_metrics`` to receive
metrics every ``log_every`` steps.
"""
from dataclasses import dataclass
import json
import os
from pathlib import Path
import time

import keras
import tensorflow as tf
from tqdm import tqdm

from edgetpu_detector.core.atomic import atomic_write_text
from edgetpu_detector.core.disk import disk_full_guard
from edgetpu_detector.core.values import parse_bool
from edgetpu_detector.ssd.checkpoint import CHECKPOINT_DIR, CONFIG_FILE, WEIGHTS_FILE, save_weights
from edgetpu_detector.ssd.losses import LossConfig
from edgetpu_detector.training.batch_norm import recompute_batch_norm_statistics
from edgetpu_detector.training.checkpoints import check_trainable_variables, save_checkpoint, variable_bytes
from edgetpu_detector.training.config import TrainConfig, learning_rate_schedule
from edgetpu_detector.training.devices import training_devices
from edgetpu_detector.training.fine_tuning import FineTuning, prepare_fine_tuning
from edgetpu_detector.training.initialize import initialize_detector
from edgetpu_detector.training.input_pipeline import training_dataset
from edgetpu_detector.training.precision import dtype_policy, resolve_precision, wrap_optimizer
from edgetpu_detector.training.step import distributed_iterator, train_step_fn
from edgetpu_detector.training.strategy import is_chief, make_strategy
from edgetpu_detector.training.time_cap import TrainingClock, format_duration, replan_under_cap
from edgetpu_detector.training.summaries import detection_images
from edgetpu_detector.training.validation import Validator

TENSORBOARD_DIR = "tensorboard"
REPLAN_STEP = 20  # steps of this process after which the speed is measured (the first ones trace and compile)


@dataclass
class TrainResult:
    """What ``train`` wrote and measured."""

    output_dir: Path
    config_path: Path
    weights_path: Path
    checkpoint_dir: Path
    tensorboard_dir: Path
    final_metrics: dict
    steps_run: int
    seconds: float
    base_weights_kind: str
    best: dict = None
    stopped_early: bool = False
    planned_steps: int = 0
    stopped_by: str = "budget"
    fine_tuning: FineTuning = None
    precision: str = "float32"
    devices: object = None

    def tags(self):
        """What the retrain run is tagged with: how it started, where and in which precision it trained (tag
        ``train/devices``, see ``edgetpu_detector.training.devices``), what batch norm and validation did."""
        tags = {"base_weights_kind": self.base_weights_kind, "train/precision": self.precision}
        if self.fine_tuning is not None:
            tags |= self.fine_tuning.tags()
        if self.devices is not None:
            tags["train/devices"] = self.devices.tag()
        if self.best:
            tags |= {"best_step": str(self.best["step"]), "stopped_early": str(self.stopped_early).lower()}
        tags["train/stopped_by"] = self.stopped_by
        return tags

    def summary(self):
        """One console line."""
        line = (f"retrain: {self.steps_run} steps in {self.seconds:.0f} s, final loss "
                f"{self.final_metrics.get('train/loss', float('nan')):.3f}, stopped by {self.stopped_by}")
        if self.best:
            line += f"; best val/mAP {self.best.get('val/mAP', float('nan')):.3f} at step {self.best['step']} (kept)"
        return line


def _checkpoint_dir(output_dir):
    """The chief's ``checkpoints/``; other workers must save too (collectives) into a copy of their own."""
    if is_chief():
        return output_dir / CHECKPOINT_DIR
    index = json.loads(os.environ["TF_CONFIG"]).get("task", {}).get("index", 0)
    return output_dir / f"{CHECKPOINT_DIR}-worker{index}"


def train(detector_config, train_records, output_dir, config=TrainConfig(), base_weights="none",
          loss_config=LossConfig(), on_metrics=None, progress=True, validation_records=None,
          names_to_ids=None):
    """Train a detector and write its config, weights, checkpoints and TensorBoard logs.

    Args:
      detector_config: ``edgetpu_detector.ssd.models.ssd.DetectorConfig``.
      train_records: str or list of str, TFRecord paths (TF OD API schema).
      output_dir: folder to write into; if it already holds checkpoints, training resumes from the
        latest one with the same step counter, learning-rate schedule and early-stopping state.
      config: TrainConfig.
      base_weights: initialization, see ``edgetpu_detector.training.initialize`` (ignored when resuming: the
        checkpoint wins).
      loss_config: LossConfig.
      on_metrics: optional ``callable(step: int, metrics: dict[str, float])`` called every
        ``config.log_every`` steps, after each validation and at the end. Metric names: ``train/loss``,
        ``train/classification_loss``, ``train/localization_loss``, ``train/learning_rate``,
        ``train/images_per_second``; ``val/mAP``, ``val/AP50``, ``val/AP75``, ``val/best_mAP`` with validation.
      progress: show a tqdm progress bar (with ETA).
      validation_records: str or list of str, TFRecords of a validation split; used when
        ``config.validation_every > 0``.
      names_to_ids: dict class name -> label-map id, for the validation metrics (default ``{"k": k}``).

    Returns:
      TrainResult. With validation and ``keep_best``, ``model.weights.h5`` holds the best validated weights.

    Raises:
      ValueError: a non-finite loss (the message gives the step), bad ``base_weights`` or settings.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(f"batch_size {config.batch_size} is not a multiple of the {replicas} replicas")
    devices = training_devices(strategy)
    precision = resolve_precision(config.precision, devices.gpu_compute_capabilities)
    print(devices.line(precision, config.batch_size, replicas), flush=True)
    with strategy.scope():
        with dtype_policy(precision):
            model, kind = initialize_detector(detector_config, base_weights, progress=progress)
        tuning = prepare_fine_tuning(model, detector_config.image_size, config.freeze_batch_norm,
                                     config.trainable_backbone_stages, config.batch_norm_momentum, kind)
        print(tuning.line(), flush=True)
        planned = tf.Variable(config.num_steps, dtype=tf.int64, trainable=False, name="planned_steps")
        budget = tf.Variable(config.num_steps, dtype=tf.int64, trainable=False, name="budget_steps")
        warmup = tf.Variable(config.warmup_steps, dtype=tf.int64, trainable=False, name="warmup_steps")
        train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="train_seconds")
        optimizer = wrap_optimizer(keras.optimizers.Adam(learning_rate=learning_rate_schedule(config, planned, warmup),
                                                         global_clipnorm=10.0), precision)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        backbone_gate = tf.Variable(1.0, dtype=tf.float32, trainable=False, name="backbone_gate")
        validator = Validator(model, detector_config, config, validation_records, names_to_ids, output_dir,
                              is_chief())
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step, planned_steps=planned,
                                     budget_steps=budget, warmup_steps=warmup, train_seconds=train_seconds,
                                     **validator.variables())
    manager = tf.train.CheckpointManager(checkpoint, str(_checkpoint_dir(output_dir)),
                                         max_to_keep=config.keep_checkpoints)
    if manager.latest_checkpoint:
        check_trainable_variables(manager.latest_checkpoint, model)
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        if int(budget.numpy()) != config.num_steps:  # resumed with another budget: it replaces the old plan
            budget.assign(config.num_steps)
            planned.assign(config.num_steps)
            warmup.assign(config.warmup_steps)
        validator.scale_interval(int(planned.numpy()))
        print(f"retrain: resuming from {manager.latest_checkpoint} (step {int(step.numpy())}), "
              f"{int(planned.numpy())} steps planned", flush=True)
    atomic_write_text(output_dir / CONFIG_FILE, detector_config.to_json())

    iterator = distributed_iterator(training_dataset(train_records, detector_config, config.batch_size,
                                                     seed=config.seed, augment=config.augment_config(),
                                                     start_step=int(step.numpy())), strategy,
                                    device="/device:GPU:0" if devices.kind == "GPU" else None)
    jit = devices.kind == "GPU" if str(config.jit_compile).lower() == "auto" else parse_bool(config.jit_compile)
    train_step = train_step_fn(model, optimizer, strategy, loss_config, backbone_gate, jit)
    anchors = tf.constant(detector_config.generate_anchors())

    @tf.function
    def image_summary(images, targets):
        box_encodings, class_logits = model(images, training=False)
        return detection_images(images, box_encodings, class_logits, targets["box_targets"],
                                targets["class_targets"], anchors, detector_config.box_coder)

    writer = tf.summary.create_file_writer(str(output_dir / TENSORBOARD_DIR)) if is_chief() \
        else tf.summary.create_noop_writer()
    start_step = int(step.numpy())
    num_steps = int(planned.numpy())
    cap_seconds = 60.0 * config.max_train_minutes
    metrics, stopped_early, stopped_by = {}, False, "budget"
    started = time.perf_counter()
    window_start, window_images = started, 0
    clock = TrainingClock(train_seconds)
    budget_steps = int(budget.numpy())

    def fit_to_cap(current):  # the time cap's re-plan of the steps (the same plan without a cap)
        return replan_under_cap(planned, warmup, budget_steps, num_steps, current, clock, validator, cap_seconds, bar)

    bar = tqdm(total=num_steps, initial=start_step, desc="retrain", unit="step",
               disable=not progress, dynamic_ncols=True)
    while int(step.numpy()) < num_steps:
        backbone_gate.assign(0.0 if int(step.numpy()) < config.freeze_backbone_steps else 1.0)
        images, targets = next(iterator)
        losses = train_step(images, targets)
        step.assign_add(1)
        current = int(step.numpy())
        clock.stepped(current - start_step)
        window_images += config.batch_size
        bar.update(1)
        loss_value = float(losses["loss"])
        if not tf.math.is_finite(loss_value):
            raise ValueError(f"non-finite training loss {loss_value} at step {current}")
        bar.set_postfix(loss=f"{loss_value:.3f}")
        if current - start_step == REPLAN_STEP:
            num_steps = fit_to_cap(current)
            print(f"retrain: {1.0 / clock.seconds_per_step():.2f} steps/s; the {num_steps - current} steps left "
                  f"take ~{format_duration(clock.eta(num_steps, current, validator))}", flush=True)
        last = current == num_steps
        if current % config.log_every == 0 or last:
            now = time.perf_counter()
            metrics = {"train/loss": loss_value,
                       "train/classification_loss": float(losses["classification_loss"]),
                       "train/localization_loss": float(losses["localization_loss"]),
                       "train/learning_rate": float(optimizer.learning_rate),
                       "train/images_per_second": window_images / max(now - window_start, 1e-9)}
            window_start, window_images = now, 0
            _write_scalars(writer, current, metrics)
            if on_metrics is not None:
                on_metrics(current, metrics)
        if config.image_every and replicas == 1 and (current % config.image_every == 0 or last):
            with writer.as_default(step=current):
                tf.summary.image("train/detections", image_summary(images, targets), max_outputs=3)
        out_of_time = bool(cap_seconds) and clock.total() >= cap_seconds and not last
        if validator.due(current, current if out_of_time else num_steps):  # the cap's stop validates too
            validation_started = time.perf_counter()
            val, stopped_early = validator.validate(current)
            clock.validated(time.perf_counter() - validation_started)
            _write_scalars(writer, current, val)
            metrics.update(val)
            if on_metrics is not None:
                on_metrics(current, {**val, "val/best_mAP": float(validator.best_metric.numpy())})
            if not (last or stopped_early or out_of_time) and current - start_step >= REPLAN_STEP:
                num_steps = fit_to_cap(current)
        elif current % config.checkpoint_every == 0 and not last and current - start_step > REPLAN_STEP:
            num_steps = fit_to_cap(current)
        if current % config.checkpoint_every == 0 or last or stopped_early or out_of_time:
            save_checkpoint(manager, current, [*model.variables, *optimizer.variables])
        if stopped_early:
            stopped_by = "early_stopping"
            print(validator.stop_message(current), flush=True)
            break
        if out_of_time:
            stopped_by = "time_cap"
            print(f"retrain: stopped at step {current} of {num_steps}: max_train_minutes "
                  f"{config.max_train_minutes:g} reached", flush=True)
            break
    bar.close()
    writer.flush()
    if stopped_by == "budget" and num_steps < int(budget.numpy()):
        stopped_by = "time_cap"  # at the end of a plan the cap shortened
    final_step = int(step.numpy())
    best = validator.restore_best(final_step)
    if not tuning.batch_norm_frozen and replicas == 1 and config.precise_bn_batches > 0 and final_step > start_step:
        recompute_batch_norm_statistics(model, iterator, config.precise_bn_batches)
    if manager.latest_checkpoint is None or final_step != start_step and \
            not manager.latest_checkpoint.endswith(f"-{final_step}"):
        save_checkpoint(manager, final_step, [*model.variables, *optimizer.variables])
    weights_path = output_dir / WEIGHTS_FILE
    if is_chief():
        with disk_full_guard(weights_path, lambda: variable_bytes(model.variables)):
            save_weights(model, weights_path)
    return TrainResult(output_dir=output_dir, config_path=output_dir / CONFIG_FILE, weights_path=weights_path,
                       checkpoint_dir=output_dir / CHECKPOINT_DIR, tensorboard_dir=output_dir / TENSORBOARD_DIR,
                       final_metrics=metrics, steps_run=final_step - start_step,
                       seconds=time.perf_counter() - started, base_weights_kind=kind, best=best,
                       stopped_early=stopped_early, fine_tuning=tuning, precision=precision,
                       devices=devices, planned_steps=num_steps, stopped_by=stopped_by)


def _write_scalars(writer, step, metrics):
    with writer.as_default(step=step):
        for name, value in metrics.items():
            tf.summary.scalar(name, value)

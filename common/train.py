"""The SSD training loop: ``tf.data`` input, focal + smooth L1 loss, cosine learning rate with warmup,
checkpoints that resume, TensorBoard scalars, and a progress bar.

MLflow is not imported here: the caller passes ``on_metrics`` to receive metrics every ``log_every`` steps.
"""
from dataclasses import dataclass
import json
import os
from pathlib import Path
import tempfile
import time

import keras
import tensorflow as tf
from tqdm import tqdm

from common.input_pipeline import AugmentConfig, training_dataset
from common.losses import LossConfig, ssd_loss
from common.weights import initialize_detector

CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
CONFIG_FILE = "detector.json"
WEIGHTS_FILE = "model.weights.h5"


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings. Learning rate: linear warmup to ``learning_rate``, then cosine decay to 0."""

    num_steps: int = 1000
    batch_size: int = 8
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    log_every: int = 10
    checkpoint_every: int = 100
    seed: int = 42
    augment: bool = True
    batch_norm_momentum: float = 0.9
    precise_bn_batches: int = 16


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


def learning_rate_schedule(config):
    """keras LearningRateSchedule: warmup from 0 then cosine decay to 0 at ``num_steps``."""
    warmup = min(config.warmup_steps, max(config.num_steps - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=max(config.num_steps - warmup, 1), alpha=0.0,
        warmup_target=config.learning_rate, warmup_steps=warmup)


def set_batch_norm_momentum(model, momentum):
    """Set the moving-average momentum of every BatchNormalization layer (nested models included).

    keras.applications' MobileNets use 0.999: after a few hundred steps their moving statistics still
    weigh mostly their initial values, and a freshly trained detector then fails at inference (measured:
    mAP 0.004 instead of 0.35 after 200 steps on the synthetic set). 0.9 follows the training statistics
    within ~50 steps.
    """
    for layer in _batch_norm_layers(model):
        layer.momentum = momentum


def _batch_norm_layers(model):
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def recompute_batch_norm_statistics(model, dataset, num_batches):
    """"Precise BN": replace every moving mean and variance by their average over ``num_batches`` batches.

    Source: Wu & Johnson, "Rethinking 'Batch' in BatchNorm" (2021), section 3 ("PreciseBN"). The moving
    averages of training lag behind the weights; inference then sees statistics of older weights. Running
    forward passes with momentum ``1 - 1/k`` at the k-th batch gives the plain mean over the batches.
    No weight other than the statistics changes.

    Args:
      model: keras.Model.
      dataset: iterator of ``(images, targets)`` training batches.
      num_batches: int; 0 leaves the model unchanged.
    """
    layers = _batch_norm_layers(model)
    saved = [layer.momentum for layer in layers]
    for k in range(1, num_batches + 1):
        images, _ = next(dataset)
        for layer in layers:
            layer.momentum = 1.0 - 1.0 / k
        model(images, training=True)
    for layer, momentum in zip(layers, saved):
        layer.momentum = momentum


def _atomic_write_text(path, text):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def save_weights_atomically(model, path):
    """Write ``model.save_weights`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save_weights(str(tmp))
    os.replace(tmp, path)


def train(detector_config, train_records, output_dir, config=TrainConfig(), base_weights="none",
          loss_config=LossConfig(), on_metrics=None, progress=True):
    """Train a detector and write its config, weights, checkpoints and TensorBoard logs.

    Args:
      detector_config: ``common.models.DetectorConfig``.
      train_records: str or list of str, TFRecord paths (TF OD API schema).
      output_dir: folder to write into; if it already holds checkpoints, training resumes from the
        latest one with the same step counter and learning-rate schedule.
      config: TrainConfig.
      base_weights: initialization, see ``common.weights``.
      loss_config: LossConfig.
      on_metrics: optional ``callable(step: int, metrics: dict[str, float])`` called every
        ``config.log_every`` steps and at the end. Metric names: ``train/loss``,
        ``train/classification_loss``, ``train/localization_loss``, ``train/learning_rate``,
        ``train/images_per_second``.
      progress: show a tqdm progress bar.

    Returns:
      TrainResult.

    Raises:
      ValueError: a non-finite loss (the message gives the step), or bad ``base_weights``.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    model, kind = initialize_detector(detector_config, base_weights)
    set_batch_norm_momentum(model, config.batch_norm_momentum)
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate_schedule(config), global_clipnorm=10.0)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    manager = tf.train.CheckpointManager(checkpoint, str(output_dir / CHECKPOINT_DIR), max_to_keep=3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
    _atomic_write_text(output_dir / CONFIG_FILE, detector_config.to_json())

    augment = AugmentConfig() if config.augment else None
    dataset = training_dataset(train_records, detector_config, config.batch_size, seed=config.seed,
                               augment=augment)

    @tf.function
    def train_step(images, targets):
        with tf.GradientTape() as tape:
            box_encodings, class_logits = model(images, training=True)
            losses = ssd_loss(box_encodings, class_logits, targets["box_targets"],
                              targets["class_targets"], loss_config)
        grads = tape.gradient(losses["loss"], model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return losses

    writer = tf.summary.create_file_writer(str(output_dir / TENSORBOARD_DIR))
    start_step = int(step.numpy())
    metrics = {}
    started = time.perf_counter()
    window_start, window_images = started, 0
    bar = tqdm(total=config.num_steps, initial=start_step, desc="retrain", unit="step",
               disable=not progress, dynamic_ncols=True)
    iterator = iter(dataset)
    while int(step.numpy()) < config.num_steps:
        images, targets = next(iterator)
        losses = train_step(images, targets)
        step.assign_add(1)
        current = int(step.numpy())
        window_images += config.batch_size
        bar.update(1)
        loss_value = float(losses["loss"])
        if not tf.math.is_finite(loss_value):
            raise ValueError(f"non-finite training loss {loss_value} at step {current}")
        bar.set_postfix(loss=f"{loss_value:.3f}")
        if current % config.log_every == 0 or current == config.num_steps:
            now = time.perf_counter()
            metrics = {
                "train/loss": loss_value,
                "train/classification_loss": float(losses["classification_loss"]),
                "train/localization_loss": float(losses["localization_loss"]),
                "train/learning_rate": float(optimizer.learning_rate),
                "train/images_per_second": window_images / max(now - window_start, 1e-9),
            }
            window_start, window_images = now, 0
            with writer.as_default(step=current):
                for name, value in metrics.items():
                    tf.summary.scalar(name, value)
            if on_metrics is not None:
                on_metrics(current, metrics)
        if current % config.checkpoint_every == 0 or current == config.num_steps:
            manager.save(checkpoint_number=current)
    bar.close()
    writer.flush()
    if config.precise_bn_batches > 0 and int(step.numpy()) > start_step:
        recompute_batch_norm_statistics(model, iterator, config.precise_bn_batches)
    if manager.latest_checkpoint is None or int(step.numpy()) != start_step and \
            not manager.latest_checkpoint.endswith(f"-{int(step.numpy())}"):
        manager.save(checkpoint_number=int(step.numpy()))
    weights_path = output_dir / WEIGHTS_FILE
    save_weights_atomically(model, weights_path)
    return TrainResult(output_dir=output_dir, config_path=output_dir / CONFIG_FILE, weights_path=weights_path,
                       checkpoint_dir=output_dir / CHECKPOINT_DIR,
                       tensorboard_dir=output_dir / TENSORBOARD_DIR, final_metrics=metrics,
                       steps_run=int(step.numpy()) - start_step, seconds=time.perf_counter() - started,
                       base_weights_kind=kind)


def load_trained_detector(model_dir):
    """Rebuild a detector written by ``train``.

    Args:
      model_dir: folder holding ``detector.json`` and ``model.weights.h5``.

    Returns:
      (keras.Model, DetectorConfig).

    Raises:
      FileNotFoundError: naming the missing file.
    """
    from common.models import DetectorConfig, build_detector

    model_dir = Path(model_dir)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir / name} is missing: not a folder written by the retrain step")
    config = DetectorConfig.from_json((model_dir / CONFIG_FILE).read_text())
    model = build_detector(config)
    model.load_weights(str(model_dir / WEIGHTS_FILE))
    return model, config


def config_summary(config):
    """JSON-able dict of a TrainConfig, for logging."""
    return json.loads(json.dumps(config.__dict__))

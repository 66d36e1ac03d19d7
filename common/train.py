"""The SSD training loop: ``tf.data`` input with augmentation, focal + smooth L1 loss, cosine learning rate with
warmup, an optional frozen backbone for the first steps, batch norm that behaves with small batches, atomic
checkpoints that resume (same step counter and learning-rate schedule, also after ``kill -9``), optional
validation mAP with early stopping and keep-best, ``tf.distribute`` strategies, TensorBoard scalars and images,
and a progress bar with ETA.

Checkpoints are ``tf.train.CheckpointManager`` checkpoints: TensorFlow writes each one under a temporary name,
renames it into place, and only then rewrites the ``checkpoint`` state file (itself written atomically), so a
run killed at any moment resumes from the last complete checkpoint. MLflow is not imported here: the caller
passes ``on_metrics`` to receive metrics every ``log_every`` steps.
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
from common.strategy import is_chief, make_strategy
from common.weights import DETECTOR_KINDS, initialize_detector

CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
CONFIG_FILE = "detector.json"
WEIGHTS_FILE = "model.weights.h5"
BEST_WEIGHTS_FILE = "best.weights.h5"
BEST_FILE = "best.json"


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings. Learning rate: linear warmup to ``learning_rate``, then cosine decay to 0.

    ``freeze_batch_norm``: ``"auto"`` freezes every batch-norm layer (inference-mode statistics, no
    gamma/beta updates) when training starts from a pretrained detector, whose statistics are better than
    those of small batches; ``"true"`` / ``"false"`` force it. Unfrozen batch norm uses momentum
    ``batch_norm_momentum`` and is re-estimated at the end over ``precise_bn_batches`` batches.
    ``early_stopping_patience``: validations without a better ``val/mAP`` before stopping (0: never).
    """

    num_steps: int = 1000
    batch_size: int = 8
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    seed: int = 42
    augment: bool = True
    horizontal_flip: bool = True
    random_crop: bool = True
    photometric: bool = True
    freeze_backbone_steps: int = 0
    freeze_batch_norm: str = "auto"
    batch_norm_momentum: float = 0.9
    precise_bn_batches: int = 16
    validation_every: int = 0
    early_stopping_patience: int = 0
    keep_best: bool = True
    image_every: int = 0
    strategy: str = "default"

    def augment_config(self):
        """The AugmentConfig these settings describe, or None for no augmentation."""
        if not self.augment:
            return None
        return AugmentConfig(horizontal_flip=self.horizontal_flip, photometric=self.photometric,
                             random_crop=self.random_crop)


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
    batch_norm_frozen: bool = False


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


def freeze_batch_norm(model):
    """Make every BatchNormalization layer non-trainable: Keras then runs it in inference mode (moving
    statistics, no updates) and leaves gamma and beta unchanged (keras.io/guides/transfer_learning)."""
    for layer in _batch_norm_layers(model):
        layer.trainable = False


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


def _resolve_freeze_batch_norm(setting, kind):
    setting = str(setting).lower()
    if setting == "auto":
        return kind in DETECTOR_KINDS
    if setting in ("true", "1", "yes"):
        return True
    if setting in ("false", "0", "no"):
        return False
    raise ValueError(f"freeze_batch_norm must be auto, true or false, got {setting!r}")


def train(detector_config, train_records, output_dir, config=TrainConfig(), base_weights="none",
          loss_config=LossConfig(), on_metrics=None, progress=True, validation_records=None,
          names_to_ids=None):
    """Train a detector and write its config, weights, checkpoints and TensorBoard logs.

    Args:
      detector_config: ``common.models.DetectorConfig``.
      train_records: str or list of str, TFRecord paths (TF OD API schema).
      output_dir: folder to write into; if it already holds checkpoints, training resumes from the
        latest one with the same step counter, learning-rate schedule and early-stopping state.
      config: TrainConfig.
      base_weights: initialization, see ``common.weights`` (ignored when resuming: the checkpoint wins).
      loss_config: LossConfig.
      on_metrics: optional ``callable(step: int, metrics: dict[str, float])`` called every
        ``config.log_every`` steps, after each validation and at the end. Metric names: ``train/loss``,
        ``train/classification_loss``, ``train/localization_loss``, ``train/learning_rate``,
        ``train/images_per_second``; ``val/mAP``, ``val/AP50``, ``val/AP75`` with validation.
      progress: show a tqdm progress bar (with ETA).
      validation_records: str, TFRecord of a validation split; used when ``config.validation_every > 0``.
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
    with strategy.scope():
        model, kind = initialize_detector(detector_config, base_weights, progress=progress)
        frozen_bn = _resolve_freeze_batch_norm(config.freeze_batch_norm, kind)
        if frozen_bn:
            freeze_batch_norm(model)
        else:
            set_batch_norm_momentum(model, config.batch_norm_momentum)
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate_schedule(config), global_clipnorm=10.0)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        best_metric = tf.Variable(-1.0, dtype=tf.float32, trainable=False, name="best_metric")
        best_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="best_step")
        stale = tf.Variable(0, dtype=tf.int64, trainable=False, name="validations_since_best")
        backbone_gate = tf.Variable(1.0, dtype=tf.float32, trainable=False, name="backbone_gate")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step, best_metric=best_metric,
                                     best_step=best_step, stale=stale)
    checkpoint_dir = output_dir / CHECKPOINT_DIR
    if not is_chief():  # every worker must save (collectives); only the chief's copy is kept
        index = json.loads(os.environ["TF_CONFIG"]).get("task", {}).get("index", 0)
        checkpoint_dir = output_dir / f"{CHECKPOINT_DIR}-worker{index}"
    manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=config.keep_checkpoints)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        print(f"retrain: resuming from {manager.latest_checkpoint} (step {int(step.numpy())})", flush=True)
    _atomic_write_text(output_dir / CONFIG_FILE, detector_config.to_json())

    dataset = training_dataset(train_records, detector_config, config.batch_size, seed=config.seed,
                               augment=config.augment_config())
    if replicas > 1:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        iterator = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))
    else:
        iterator = iter(dataset)
    from common.models.ssd import backbone_of

    backbone_ids = {id(v) for v in backbone_of(model).trainable_variables}
    variables = model.trainable_variables
    gated = [id(v) in backbone_ids for v in variables]

    def step_fn(images, targets):
        with tf.GradientTape() as tape:
            box_encodings, class_logits = model(images, training=True)
            losses = ssd_loss(box_encodings, class_logits, targets["box_targets"], targets["class_targets"],
                              loss_config)
            scaled = losses["loss"] / replicas
        grads = tape.gradient(scaled, variables)
        grads = [g * backbone_gate if gate and g is not None else g for g, gate in zip(grads, gated)]
        optimizer.apply_gradients(zip(grads, variables))
        return losses

    @tf.function
    def train_step(images, targets):
        per_replica = strategy.run(step_fn, args=(images, targets))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in per_replica.items()}

    anchors = tf.constant(detector_config.generate_anchors())

    @tf.function
    def image_summary(images, targets):
        from common.train_images import detection_images

        box_encodings, class_logits = model(images, training=False)
        return detection_images(images, box_encodings, class_logits, targets["box_targets"],
                                targets["class_targets"], anchors, detector_config.box_coder)

    validate = config.validation_every > 0 and validation_records
    names = names_to_ids or {str(k): k for k in range(1, detector_config.num_classes + 1)}
    writer = tf.summary.create_file_writer(str(output_dir / TENSORBOARD_DIR)) if is_chief() \
        else tf.summary.create_noop_writer()
    start_step = int(step.numpy())
    metrics, stopped_early, detect_fn = {}, False, None
    started = time.perf_counter()
    window_start, window_images = started, 0
    bar = tqdm(total=config.num_steps, initial=start_step, desc="retrain", unit="step",
               disable=not progress, dynamic_ncols=True)
    while int(step.numpy()) < config.num_steps:
        backbone_gate.assign(0.0 if int(step.numpy()) < config.freeze_backbone_steps else 1.0)
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
        last = current == config.num_steps
        if current % config.log_every == 0 or last:
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
        if config.image_every and replicas == 1 and (current % config.image_every == 0 or last):
            with writer.as_default(step=current):
                tf.summary.image("train/detections", image_summary(images, targets), max_outputs=3)
        if validate and (current % config.validation_every == 0 or last):
            if detect_fn is None:
                from common.evaluation.model_forms import keras_detect_fn

                detect_fn = keras_detect_fn(model, detector_config)
            val = validation_metrics_of(model, detector_config, validation_records, names, detect_fn)
            if val["val/mAP"] > float(best_metric.numpy()):
                best_metric.assign(val["val/mAP"])
                best_step.assign(current)
                stale.assign(0)
                if config.keep_best and is_chief():
                    save_weights_atomically(model, output_dir / BEST_WEIGHTS_FILE)
                    _atomic_write_text(output_dir / BEST_FILE, json.dumps({"step": current, **val}, indent=2))
            else:
                stale.assign_add(1)
            with writer.as_default(step=current):
                for name, value in val.items():
                    tf.summary.scalar(name, value)
            metrics.update(val)
            if on_metrics is not None:
                on_metrics(current, {**val, "val/best_mAP": float(best_metric.numpy())})
            if config.early_stopping_patience and int(stale.numpy()) >= config.early_stopping_patience:
                stopped_early = True
        if current % config.checkpoint_every == 0 or last or stopped_early:
            manager.save(checkpoint_number=current)
        if stopped_early:
            print(f"retrain: early stop at step {current}: val/mAP has not improved for "
                  f"{int(stale.numpy())} validations (best {float(best_metric.numpy()):.3f} at step "
                  f"{int(best_step.numpy())})", flush=True)
            break
    bar.close()
    writer.flush()
    best = None
    if validate and config.keep_best and (output_dir / BEST_FILE).is_file():
        best = json.loads((output_dir / BEST_FILE).read_text())
        if best["step"] != int(step.numpy()):
            model.load_weights(str(output_dir / BEST_WEIGHTS_FILE))
    if not frozen_bn and replicas == 1 and config.precise_bn_batches > 0 and int(step.numpy()) > start_step:
        recompute_batch_norm_statistics(model, iterator, config.precise_bn_batches)
    if manager.latest_checkpoint is None or int(step.numpy()) != start_step and \
            not manager.latest_checkpoint.endswith(f"-{int(step.numpy())}"):
        manager.save(checkpoint_number=int(step.numpy()))
    weights_path = output_dir / WEIGHTS_FILE
    if is_chief():
        save_weights_atomically(model, weights_path)
    return TrainResult(output_dir=output_dir, config_path=output_dir / CONFIG_FILE, weights_path=weights_path,
                       checkpoint_dir=output_dir / CHECKPOINT_DIR,
                       tensorboard_dir=output_dir / TENSORBOARD_DIR, final_metrics=metrics,
                       steps_run=int(step.numpy()) - start_step, seconds=time.perf_counter() - started,
                       base_weights_kind=kind, best=best, stopped_early=stopped_early,
                       batch_norm_frozen=frozen_bn)


def validation_metrics_of(model, detector_config, records, names_to_ids, detect_fn=None):
    """``common.train_validation.validation_metrics`` (imported lazily: the evaluation package is optional here)."""
    from common.train_validation import validation_metrics

    return validation_metrics(model, detector_config, records, names_to_ids, detect_fn)


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

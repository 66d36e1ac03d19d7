"""One distributed training step (forward, loss, gradients, update) and the iterator that feeds it."""
import tensorflow as tf

from edgetpu_detector.ssd.losses import ssd_loss
from edgetpu_detector.ssd.models.ssd import backbone_of
from edgetpu_detector.training.precision import scale_loss


def train_step_fn(model, optimizer, strategy, loss_config, backbone_gate, jit_compile=False):
    """The compiled training step ``train_step(images, targets) -> {loss name: mean over replicas}``.

    Each replica computes the loss of its share of the global batch divided by the number of replicas
    (so that the summed gradients are the gradient of the global batch's mean loss), scaled by the optimizer
    under ``mixed_float16``; the backbone's gradients are multiplied by ``backbone_gate`` (0.0 freezes it).

    Args:
      model: the detector (float32 outputs under every precision).
      optimizer: keras optimizer, possibly a ``LossScaleOptimizer`` (``edgetpu_detector.training.precision``).
      strategy: tf.distribute.Strategy the model and optimizer were built in.
      loss_config: ``edgetpu_detector.ssd.losses.LossConfig``.
      backbone_gate: scalar float32 tf.Variable.
      jit_compile: compile each replica's step with XLA (``tf.function(jit_compile=True)``).
    """
    replicas = strategy.num_replicas_in_sync
    backbone_ids = {id(v) for v in backbone_of(model).trainable_variables}
    variables = model.trainable_variables
    gated = [id(v) in backbone_ids for v in variables]

    def gradients(images, targets):
        with tf.GradientTape() as tape:
            box_encodings, class_logits = model(images, training=True)
            losses = ssd_loss(box_encodings, class_logits, targets["box_targets"], targets["class_targets"],
                              loss_config)
            scaled = scale_loss(optimizer, losses["loss"] / replicas)
        return losses, tape.gradient(scaled, variables)

    if jit_compile:  # the update stays outside XLA: under a strategy it is a cross-replica call
        gradients = tf.function(gradients, jit_compile=True)

    def step_fn(images, targets):
        losses, grads = gradients(images, targets)
        grads = [g * backbone_gate if gate and g is not None else g for g, gate in zip(grads, gated)]
        optimizer.apply_gradients(zip(grads, variables))
        return losses

    @tf.function
    def train_step(images, targets):
        per_replica = strategy.run(step_fn, args=(images, targets))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in per_replica.items()}

    return train_step


def distributed_iterator(dataset, strategy, device=None):
    """An iterator over ``dataset`` (global batches); with several replicas each batch is split among them and
    copied ahead to their devices (``experimental_distribute_dataset``), with one replica copied ahead to
    ``device`` when given (a GPU: ``tf.data.experimental.prefetch_to_device``), so that the accelerator does
    not wait for the host."""
    if strategy.num_replicas_in_sync == 1:
        if device:
            dataset = dataset.apply(tf.data.experimental.prefetch_to_device(device))
        return iter(dataset)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))

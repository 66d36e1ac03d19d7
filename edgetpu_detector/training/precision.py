"""The ``precision`` parameter: the Keras dtype policy a detector trains under.

* ``float32``: everything in float32;
* ``mixed_float16``: float16 computation, float32 variables, dynamic loss scaling (for GPUs with tensor cores,
  CUDA compute capability >= 7.0);
* ``mixed_bfloat16``: bfloat16 computation, float32 variables, no loss scaling (bfloat16 has float32's range);
* ``auto``: ``mixed_float16`` when every training GPU has tensor cores, else ``float32`` (see ``resolve_precision``).

Source: Micikevicius et al., "Mixed Precision Training" (ICLR 2018): float32 master weights and loss scaling;
keras.io/api/mixed_precision. Variables stay float32 under every policy, so the saved ``model.weights.h5`` and the
models exported from it are float32 (then int8) whatever the training precision. The detector's two outputs
are float32 under every policy (``edgetpu_detector.ssd.models.ssd``), so the loss is computed in float32.
"""
from contextlib import contextmanager

import keras

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
TENSOR_CORE_COMPUTE_CAPABILITY = (7, 0)  # Volta: the first NVIDIA GPUs with float16 tensor cores


def resolve_precision(setting, gpu_compute_capabilities):
    """The Keras dtype policy name a ``precision`` setting means on the training devices.

    ``auto`` picks ``mixed_float16`` when there is at least one GPU and every one has compute capability
    >= 7.0, else ``float32``. On CPUs ``auto`` stays ``float32``: measured on an AVX512_BF16 CPU (oneDNN, TF
    2.21, SSDLite-MobileNetV2 300x300), ``mixed_bfloat16`` trained at 0.67 times float32's speed (README,
    Training speed), and from random weights (batch norm trained, batch 4, learning rate 2e-3) its loss became
    NaN within four steps where float32 and mixed_float16 converge. Pass ``mixed_bfloat16`` explicitly to try
    it on hardware with fast bfloat16 (AMX, TPUs).

    Args:
      setting: one of ``PRECISIONS`` (case-insensitive).
      gpu_compute_capabilities: list of ``(major, minor)`` of the GPUs training runs on (empty on a CPU).

    Returns:
      ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.

    Raises:
      ValueError: an unknown setting.
    """
    value = str(setting).strip().lower()
    if value not in PRECISIONS:
        raise ValueError(f"unknown precision {setting!r}; expected one of {', '.join(PRECISIONS)}")
    if value != "auto":
        return value
    if gpu_compute_capabilities and all(tuple(cc) >= TENSOR_CORE_COMPUTE_CAPABILITY
                                        for cc in gpu_compute_capabilities):
        return "mixed_float16"
    return "float32"


@contextmanager
def dtype_policy(name):
    """Set Keras's global dtype policy to ``name`` for the models built inside the block, then restore it
    (other models of the process, e.g. the float32 one an export rebuilds, are not affected)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)


def wrap_optimizer(optimizer, policy_name):
    """``optimizer`` wrapped in dynamic loss scaling (``keras.optimizers.LossScaleOptimizer``) under
    ``mixed_float16``, whose small range would flush small gradients to zero; else ``optimizer`` itself.
    The wrapper's ``scale_loss`` multiplies the loss by the current scale and its ``apply_gradients`` divides
    the gradients back, skipping a step (and halving the scale) when they are not finite."""
    if policy_name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def scale_loss(optimizer, loss):
    """The loss to differentiate: scaled by a loss-scale optimizer, else ``loss`` itself."""
    return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss

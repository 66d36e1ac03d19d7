"""A ``tf.Module`` that owns a Keras 3 model so that ``tf.saved_model`` and the TFLite converter see its
variables.

Keras 3 wraps each ``tf.Variable`` in a ``keras.Variable``; attached to a ``tf.Module`` the wrappers are not
saved as plain variables, and TF 2.21's TFLite converter then keeps every weight as a resource variable
(``VAR_HANDLE`` / ``READ_VARIABLE`` ops, batch norm unfolded, nothing quantized). Tracking the underlying
``tf.Variable`` objects explicitly fixes both: the SavedModel restores them and the converter freezes them.
"""
import tensorflow as tf


def module_for_model(model):
    """Return a ``tf.Module`` with ``.model`` (the Keras model) and ``.model_variables`` (its tf.Variables)."""
    module = tf.Module()
    module.model = model
    module.model_variables = [getattr(v, "value", v) for v in model.weights]
    return module

"""Training a detector: settings, the ``tf.data`` input pipeline and augmentation, initialization from
``base_weights`` (zoo, checkpoints, files), the budget and its time cap, the learning-rate schedule,
batch-norm handling and frozen backbone stages, the training loop with resumable checkpoints, validation, early
stopping and the convergence hint, ``tf.distribute`` strategies, TensorBoard images.

May import: ``evaluation``, ``zoo``, ``ssd``, ``tfrecord``, ``data``, ``images``, ``core``. Never MLflow.
"""

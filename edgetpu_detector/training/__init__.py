"""Training a detector: settings, the ``tf.data`` input pipeline and augmentation, initialization from
``base_weights`` (zoo, checkpoints, files), the learning-rate schedule, batch-norm handling, the training loop
with resumable checkpoints, validation and early stopping, ``tf.distribute`` strategies, TensorBoard images.

May import: ``evaluation``, ``zoo``, ``ssd``, ``tfrecord``, ``data``, ``images``, ``core``. Never MLflow.
"""

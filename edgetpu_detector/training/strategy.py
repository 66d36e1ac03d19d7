"""The ``strategy`` parameter: which ``tf.distribute`` strategy trains the detector.

* ``default``: one device (TensorFlow's default strategy);
* ``mirrored``: ``tf.distribute.MirroredStrategy``, synchronous data parallelism over every visible GPU of this
  machine (without GPUs, over its logical CPU devices: one unless configured otherwise, as the tests do); the
  global ``batch_size`` is split evenly across the replicas;
* ``multi_worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines listed in the ``TF_CONFIG``
  environment variable (tensorflow.org/guide/distributed_training#setting_up_the_tf_config_environment_variable).
"""
import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name="default"):
    """The tf.distribute.Strategy called ``name``.

    Raises:
      ValueError: unknown name, or ``multi_worker`` without a ``TF_CONFIG`` holding a cluster and a task.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        if "cluster" not in config or "task" not in config:
            raise ValueError("strategy multi_worker needs TF_CONFIG with 'cluster' and 'task' "
                             "(e.g. {\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, "
                             "\"task\": {\"type\": \"worker\", \"index\": 0}})")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")


def is_chief():
    """True on the worker that writes checkpoints and logs (worker 0, or any single-machine run)."""
    task = json.loads(os.environ.get("TF_CONFIG") or "{}").get("task", {})
    return task.get("type", "worker") in ("chief", "worker") and int(task.get("index", 0)) == 0 and \
        not (task.get("type") == "worker" and "chief" in json.loads(os.environ.get("TF_CONFIG") or "{}")
             .get("cluster", {}))

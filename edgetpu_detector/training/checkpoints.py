"""Training checkpoints written safely on a full disk: ``DiskFull`` (``edgetpu_detector.core.disk``) naming
the folder and the checkpoint's size, and no half-written checkpoint left behind; resumed only by a run that
trains the same variables."""
from pathlib import Path
import shutil

import numpy as np
import tensorflow as tf

from edgetpu_detector.core.disk import disk_full_guard


def variable_bytes(variables):
    """Bytes the values of ``variables`` take (what a checkpoint of them writes, give or take its index)."""
    return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)


_OPTIMIZER_SLOT = "optimizer/_trainable_variables/{}/.ATTRIBUTES/VARIABLE_VALUE"  # Keras 3 optimizer's key


def check_trainable_variables(checkpoint_path, model):
    """Make sure the checkpoint at ``checkpoint_path`` (a prefix) was written by a run training the same variables
    as ``model`` (the optimizer's state is saved by position: another set would restore into the wrong ones).

    Raises:
      ValueError: another number or shapes of trainable variables, naming the checkpoint and the settings that
        decide them.
    """
    shapes = tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()
    saved = []
    while _OPTIMIZER_SLOT.format(len(saved)) in shapes:
        saved.append(tuple(shapes[_OPTIMIZER_SLOT.format(len(saved))]))
    now = [tuple(v.shape) for v in model.trainable_variables]
    if saved and saved != now:
        which = f"{len(now)}" if len(now) != len(saved) else "as many of other shapes"
        raise ValueError(f"{checkpoint_path} was written by a run training {len(saved)} variables, this one trains "
                         f"{which}: trainable_backbone_stages, freeze_batch_norm or the model differ from that run's. "
                         f"Resume with its settings, or train into a new output_dir")


def save_checkpoint(manager, number, variables):
    """``manager.save(number)``; on a full disk, ``DiskFull`` naming the checkpoint folder and the size of a
    checkpoint of ``variables``, and the half-written ``ckpt-<n>_temp`` folder removed (the checkpoint state
    file still names the last complete checkpoint, which a later run resumes from)."""
    folder = Path(manager.directory)
    try:
        with disk_full_guard(folder, lambda: variable_bytes(variables)):
            manager.save(checkpoint_number=number)
    except BaseException:
        for temp in folder.glob("*_temp"):
            shutil.rmtree(temp, ignore_errors=True)
        raise

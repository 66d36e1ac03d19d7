"""Training checkpoints written safely on a full disk: ``DiskFull`` (``edgetpu_detector.core.disk``) naming
the folder and the checkpoint's size, and no half-written checkpoint left behind."""
from pathlib import Path
import shutil

import numpy as np
import tensorflow as tf

from edgetpu_detector.core.disk import disk_full_guard


def variable_bytes(variables):
    """Bytes the values of ``variables`` take (what a checkpoint of them writes, give or take its index)."""
    return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)


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

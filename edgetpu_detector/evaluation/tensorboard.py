"""Evaluation pictures in TensorBoard: the charts and the detection grid as image summaries."""
from pathlib import Path

import numpy as np
from PIL import Image
import tensorflow as tf


def write_image_summaries(png_paths, logdir, step=0):
    """Write each PNG as a TensorBoard image summary named after its file stem.

    Args:
      png_paths: iterable of PNG file paths (RGB or RGBA).
      logdir: TensorBoard log folder (created).
      step: int, the summary step (the training step the model was evaluated at).

    Returns:
      Path of ``logdir``.
    """
    logdir = Path(logdir)
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default(step=step):
        for path in png_paths:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"), np.float32)[np.newaxis] / 255.0
            tf.summary.image(f"eval/{Path(path).stem}", pixels)
    writer.close()
    return logdir

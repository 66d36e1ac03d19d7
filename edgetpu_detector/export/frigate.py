"""Files for Frigate (the NVR that runs Coral detectors): its label map and a config snippet for our model.

Sources: Frigate's ``frigate/detectors/plugins/edgetpu_tfl.py`` and ``cpu_tfl.py`` (they read the four outputs
by position -- boxes, classes, scores, count -- take at most 20 detections and stop at the first score below
0.4) and ``frigate/util/builtin.py`` ``load_labels`` (a label map of ``<index> <name>`` lines, or one name per
line; index = the model's 0-based class). Frigate's ``model`` keys: ``path``, ``width``, ``height``,
``input_tensor``, ``input_pixel_format``, ``labelmap_path``.
"""
from pathlib import Path

import yaml

from edgetpu_detector.core.atomic import atomic_write_text
from edgetpu_detector.core.class_ids import class_index

FRIGATE_DIR = "frigate"
LABELMAP_FILE = "labelmap.txt"
CONFIG_FILE = "config.yml"
# Where the snippet tells Frigate the files are (the folder users mount into its container).
MODEL_FOLDER = "/config/model_cache/edgetpu-detector"


def labelmap_lines(ids_to_names):
    """Frigate label map lines ``<class index> <name>`` (class index = label-map id - 1)."""
    return [f"{class_index(label_id)} {name}" for label_id, name in sorted(ids_to_names.items())]


def write_frigate_files(folder, model_file, compiled_file, input_size, ids_to_names, score_threshold):
    """Write ``labelmap.txt`` and ``config.yml`` (a snippet to merge into Frigate's config) into ``folder``.

    Args:
      folder: output folder (created).
      model_file: name of the CPU model (``model_int8.tflite``), for Frigate's ``cpu`` detector.
      compiled_file: name of the Edge TPU model (``model_int8_edgetpu.tflite``), for the ``edgetpu`` detector,
        whether or not it was compiled here (the snippet says to compile it when it is missing).
      input_size: (height, width) of the model input, pixels.
      ids_to_names: ``{label-map id: class name}``.
      score_threshold: the user's score threshold, as Frigate's per-object ``min_score``.

    Returns:
      (labelmap path, config path).
    """
    folder = Path(folder)
    labelmap = atomic_write_text(folder / LABELMAP_FILE, "".join(line + "\n" for line in labelmap_lines(ids_to_names)))
    height, width = input_size
    names = [name for _, name in sorted(ids_to_names.items())]
    config = {
        "detectors": {"coral": {"type": "edgetpu", "device": "usb"}},
        "model": {"path": f"{MODEL_FOLDER}/{compiled_file}", "width": int(width), "height": int(height),
                  "input_tensor": "nhwc", "input_pixel_format": "rgb",
                  "labelmap_path": f"{MODEL_FOLDER}/{LABELMAP_FILE}"},
        "objects": {"track": names,
                    "filters": {name: {"min_score": round(float(score_threshold), 4)} for name in names}},
    }
    header = "\n".join([
        "# Frigate config for this detector: merge into your config.yml, and copy the model and",
        f"# {LABELMAP_FILE} into {MODEL_FOLDER}/ (a folder mounted into Frigate's container).",
        f"# {compiled_file} is `edgetpu_compiler {model_file}` (the convert step runs it when Coral's",
        "# compiler is installed; older Edge TPU runtimes need `-m 13`, see the README). Without a Coral, use",
        f"# Frigate's cpu detector with model.path {MODEL_FOLDER}/{model_file}.",
        "# Frigate reads the outputs by position (boxes, classes, scores, count), keeps at most 20 detections and",
        "# stops at the first score below 0.4; the model itself keeps every detection (its threshold is 0).",
    ])
    text = header + "\n" + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return labelmap, atomic_write_text(folder / CONFIG_FILE, text)

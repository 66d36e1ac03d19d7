"""What every detector returns: ``Detections`` of one image, with label-map ids whatever the model form."""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detections:
    """Detections of one image, by descending score.

    Attributes:
      boxes: float32 [M, 4] ymin, xmin, ymax, xmax normalized to [0, 1] by the image's height and width.
      classes: int32 [M] label-map ids (>= 1; ``edgetpu_detector.core.class_ids``).
      scores: float32 [M] in [0, 1].
    """

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "boxes", np.asarray(self.boxes, np.float32).reshape(-1, 4))
        object.__setattr__(self, "classes", np.asarray(self.classes).astype(np.int32).reshape(-1))
        object.__setattr__(self, "scores", np.asarray(self.scores, np.float32).reshape(-1))
        if not len(self.boxes) == len(self.classes) == len(self.scores):
            raise ValueError(f"boxes, classes and scores differ in length: {len(self.boxes)}, "
                             f"{len(self.classes)}, {len(self.scores)}")

    def __len__(self):
        return len(self.scores)

    def above(self, score_threshold=0.0, max_detections=None):
        """The detections scoring at least ``score_threshold``, at most ``max_detections`` of them (best first;
        None: all)."""
        keep = np.flatnonzero(self.scores >= score_threshold)
        if max_detections is not None:
            keep = keep[:int(max_detections)]
        return Detections(self.boxes[keep], self.classes[keep], self.scores[keep])

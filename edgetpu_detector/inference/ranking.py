"""Which unlabelled image to label next: uncertainty sampling adapted to detection.

Source: least-confidence uncertainty sampling (B. Settles, "Active Learning Literature Survey", Computer
Sciences Technical Report 1648, University of Wisconsin-Madison, 2009, section 3.1: query the instance whose
most likely label the model is least sure of, ``1 - P(y_hat | x)``), with per-detection uncertainties
aggregated by their maximum over the image (as in C.-A. Brust, C. Kaeding, J. Denzler, "Active Learning for
Deep Object Detection", VISAPP 2019).

For an image on which the detector returned scores ``s_1 .. s_M`` (every detection it outputs, before the
pre-label threshold; ``M`` may be 0) and the pre-label threshold ``t`` in (0, 1):

* ``u_best = 1 - max_i s_i`` (1 when ``M = 0``): least confidence of the image's most likely object. High
  when the model sees nothing it is sure of: the image is empty or its objects are missed.
* ``u_i = 1 - (s_i - t) / (1 - t)`` when ``s_i >= t``, else ``1 - (t - s_i) / t``: least confidence of the
  keep/drop decision the pre-labels make for detection ``i``, centred on the threshold: 1 for a score at the
  threshold, falling linearly to 0 at a score of 1 (a sure box) or 0 (a sure background).
* ``priority = max(u_best, max_i u_i)``, in [0, 1]; the images are ranked by descending priority (ties: lower
  best score first, then by name), so the user corrects the pre-labels the model is least sure of first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def labelling_priority(scores, score_threshold: float) -> float:
    """The priority of one image (see the module docstring).

    Args:
      scores: float [M] scores in [0, 1] of every detection the model returned for the image.
      score_threshold: the pre-label threshold ``t``, in (0, 1).

    Raises:
      ValueError: a threshold outside (0, 1).
    """
    t = float(score_threshold)
    if not 0.0 < t < 1.0:
        raise ValueError(f"score_threshold must be in (0, 1) to rank images, got {score_threshold}")
    s = np.clip(np.asarray(scores, np.float64).reshape(-1), 0.0, 1.0)
    if s.size == 0:
        return 1.0
    per_detection = np.where(s >= t, 1.0 - (s - t) / (1.0 - t), 1.0 - (t - s) / t)
    return float(max(1.0 - s.max(), per_detection.max()))


@dataclass(frozen=True)
class RankedImage:
    """One image of the ranking: ``image`` and ``annotation`` names (relative to the pre-label folder),
    ``priority`` (see the module docstring), ``best_score`` (0 without detections), ``prelabels`` (boxes at
    or above the threshold) and ``candidates`` (every detection returned)."""

    image: str
    annotation: str
    priority: float
    best_score: float
    prelabels: int
    candidates: int


def rank_images(images, score_threshold: float) -> list[RankedImage]:
    """Rank images for labelling, most useful first.

    Args:
      images: iterable of ``(image name, annotation name, scores float [M])``.
      score_threshold: the pre-label threshold.

    Returns:
      list of RankedImage by descending priority, then ascending best score, then name.
    """
    ranked = []
    for image, annotation, scores in images:
        scores = np.asarray(scores, np.float64).reshape(-1)
        ranked.append(RankedImage(image, annotation, labelling_priority(scores, score_threshold),
                                  float(scores.max()) if scores.size else 0.0,
                                  int((scores >= score_threshold).sum()), int(scores.size)))
    return sorted(ranked, key=lambda r: (-r.priority, r.best_score, r.image))

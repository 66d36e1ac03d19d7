"""The dataset report: per-class image and box counts, box size and aspect-ratio histograms (PNG).

Files (``write_dataset_report``): ``dataset_report.json`` (``{"splits": {split: {"images", "boxes",
"images_per_class", "boxes_per_class"}}, "box_sizes": {"min", "median", "max"} of sqrt(w*h) in pixels,
"aspect_ratios": {"min", "median", "max"} of w/h}``), ``box_sizes.png`` (histogram of sqrt(box area) in
pixels, log-spaced bins, one series per split) and ``aspect_ratios.png`` (histogram of box width/height,
log scale). Plotting uses matplotlib's Agg backend (no display needed).
"""
from __future__ import annotations

from collections import Counter
import json
from pathlib import Path

import numpy as np

REPORT_JSON = "dataset_report.json"
SIZES_PNG = "box_sizes.png"
ASPECTS_PNG = "aspect_ratios.png"


def split_summary(records) -> dict:
    """Image and box counts of one split, overall and per class (class keys sorted)."""
    boxes = Counter(box.label for record in records for box in record.boxes)
    images = Counter(label for record in records for label in {box.label for box in record.boxes})
    return {
        "images": len(records),
        "boxes": sum(boxes.values()),
        "images_per_class": dict(sorted(images.items())),
        "boxes_per_class": dict(sorted(boxes.items())),
    }


def box_geometry(records) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, aspect ratios): float64 [N] sqrt(w * h) in pixels and w / h of every box."""
    wh = np.array([(b.xmax - b.xmin, b.ymax - b.ymin) for r in records for b in r.boxes], np.float64).reshape(-1, 2)
    return np.sqrt(wh[:, 0] * wh[:, 1]), wh[:, 0] / wh[:, 1]


def _stats(values: np.ndarray) -> dict:
    if values.size == 0:
        return {"min": None, "median": None, "max": None}
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def _histogram(series: dict, path: Path, title: str, xlabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [v for v in series.values() if v.size]
    figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
    if values:
        everything = np.concatenate(values)
        low, high = float(everything.min()), float(everything.max())
        bins = np.geomspace(low, high if high > low else low * 1.01, 31)
        for name, data in series.items():
            if data.size:
                axis.hist(data, bins=bins, alpha=0.6, label=f"{name} ({data.size})")
        axis.set_xscale("log")
        axis.legend()
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("boxes")
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def write_dataset_report(splits: dict, output_dir) -> list[Path]:
    """Write the report files for ``{split: [ImageRecord]}`` into ``output_dir``; returns their paths."""
    output_dir = Path(output_dir)
    geometry = {name: box_geometry(records) for name, records in splits.items()}
    sizes = np.concatenate([g[0] for g in geometry.values()]) if geometry else np.zeros(0)
    aspects = np.concatenate([g[1] for g in geometry.values()]) if geometry else np.zeros(0)
    report = {"splits": {name: split_summary(records) for name, records in splits.items()},
              "box_sizes": _stats(sizes), "aspect_ratios": _stats(aspects)}
    json_path = output_dir / REPORT_JSON
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _histogram({n: g[0] for n, g in geometry.items()}, output_dir / SIZES_PNG,
               "Box size", "sqrt(box width x height), pixels")
    _histogram({n: g[1] for n, g in geometry.items()}, output_dir / ASPECTS_PNG,
               "Box aspect ratio", "box width / height")
    return [json_path, output_dir / SIZES_PNG, output_dir / ASPECTS_PNG]

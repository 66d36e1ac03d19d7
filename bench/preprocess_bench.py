"""Benchmark of the preprocess step (not a test): images/s and peak RSS for 1,000 and 10,000 generated images.

Generates flat LabelImg folders of 800x600 RGB JPEGs (a colour gradient with 1-3 filled rectangles,
seeded; about 20 KB each) with their Pascal VOC XML, then runs ``edgetpu_detector.data.preprocess.preprocess`` on each
in a fresh subprocess and reports wall time (including the TensorFlow import and worker start-up),
images/s, the main process's peak RSS (``ru_maxrss``) and the peak of the summed RSS of the main process
and its encoding workers (sampled from /proc every 0.1 s). The issue's bound: peak RSS at 10,000 within 1.5x of the figure at 1,000.

    python bench/preprocess_bench.py [--sizes 1000 10000] [--workers 0] [--work-dir /tmp/preprocess_bench]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edgetpu_detector.data.synthetic import voc_xml  # noqa: E402

WIDTH, HEIGHT = 800, 600
CLASSES = ("red", "green", "blue")
COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 80, 230)}


def make_folder(folder: Path, count: int, seed: int = 0) -> None:
    """Write ``count`` 800x600 JPEG + XML pairs into ``folder`` (skipped when already complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.xml"))) == count:
        return
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, WIDTH)[None, :, None]
    y = np.linspace(0, 1, HEIGHT)[:, None, None]
    for index in range(count):
        base = rng.uniform(40, 200, size=3)
        slope = rng.uniform(-60, 60, size=(2, 3))
        pixels = np.clip(base + slope[0] * x + slope[1] * y, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        draw = ImageDraw.Draw(image)
        objects = []
        for _ in range(int(rng.integers(1, 4))):
            name = CLASSES[int(rng.integers(0, 3))]
            w, h = (int(v) for v in rng.integers(40, 300, size=2))
            x0, y0 = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
            draw.rectangle((x0, y0, x0 + w - 1, y0 + h - 1), fill=COLOURS[name])
            objects.append((name, x0, y0, x0 + w, y0 + h))
        stem = f"img_{index:05d}"
        image.save(folder / f"{stem}.jpg", format="JPEG", quality=85)
        (folder / f"{stem}.xml").write_bytes(voc_xml("bench", f"{stem}.jpg", WIDTH, HEIGHT, objects))


CHILD = r"""
import json, os, sys, threading, time
sys.path.insert(0, {root!r})

def tree_rss_mib():
    # VmRSS of this process and all its descendants (the encoding workers), MiB
    pids, total, seen = [os.getpid()], 0, set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in open(f"/proc/{{pid}}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in os.listdir(f"/proc/{{pid}}/task"):
                pids += [int(c) for c in open(f"/proc/{{pid}}/task/{{task}}/children").read().split()]
        except OSError:
            pass
    return total / 1024

peak = {{"tree": 0.0, "main": 0.0}}
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak["tree"] = max(peak["tree"], tree_rss_mib())
        stop.wait(0.1)
threading.Thread(target=sample, daemon=True).start()
import resource
import edgetpu_detector.core.env
from edgetpu_detector.data.preprocess import preprocess
start = time.perf_counter()
result = preprocess({data!r}, {out!r}, progress=False, num_workers={workers})
seconds = time.perf_counter() - start
stop.set()
print(json.dumps({{"images": result.counts["images_kept"], "boxes": result.counts["boxes_kept"], "seconds": seconds,
                  "passthrough": result.passthrough_images,
                  "main_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tree_peak_rss_mib": peak["tree"]}}))
"""


def run(data: Path, out: Path, workers: int) -> dict:
    """Preprocess ``data`` in a fresh Python process; return its measurements."""
    code = CHILD.format(root=str(ROOT), data=str(data), out=str(out), workers=workers or None)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "preprocess_bench"))
    args = parser.parse_args(argv)
    work = Path(args.work_dir)
    results = {}
    for size in args.sizes:
        data = work / f"data_{size}"
        make_folder(data, size)
        stats = run(data, work / f"out_{size}", args.workers)
        stats["images_per_s"] = stats["images"] / stats["seconds"]
        results[size] = stats
        print(f"{size:6d} images: {stats['seconds']:7.1f} s, {stats['images_per_s']:6.1f} images/s, "
              f"main peak RSS {stats['main_peak_rss_mib']:.0f} MiB, main + workers peak RSS "
              f"{stats['tree_peak_rss_mib']:.0f} MiB, {stats['passthrough']} JPEGs passed through", flush=True)
    if len(args.sizes) >= 2:
        small, large = results[min(args.sizes)], results[max(args.sizes)]
        for key in ("main_peak_rss_mib", "tree_peak_rss_mib"):
            ratio = large[key] / small[key]
            print(f"{key} ratio {max(args.sizes)}/{min(args.sizes)}: {ratio:.2f} (bound 1.5)")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: one turn of the labelling loop on a real dataset. How many boxes would the user not have to draw?

    python -m bench.labelling_loop --out /tmp/labelling_loop            # from the repository root

Data: ``../shared/datasets/raccoon`` (200 photos, 217 boxes; read in place). A seeded draw of ``--labelled``
images (default 20) plays the part of what the user labelled first; they are staged as copies under ``--out``
(image + LabelImg XML), preprocessed and trained on (``--num-steps`` steps from the default pretrained SSDLite,
input ``--image-size`` 192 to keep it to minutes on 2 CPU cores). The model is converted as deployed (int8
TFLite, class-agnostic NMS, calibrated on the labelled images) with a low NMS score threshold (0.05) so that the
ranking sees the candidates below the pre-label threshold. ``predict`` then pre-labels the other images (copied
without their XML) in LabelImg's VOC format and ranks them (``to_label.csv``).

Measured against the held-out images' own annotations, per pre-label threshold (``--thresholds``; the
pre-labels written at ``--score-threshold`` are checked to equal the detections at that threshold):

* boxes saved: the share of ground-truth boxes matched by a pre-label of the right class at IoU >= 0.5
  (greedy, best score first: ``edgetpu_detector.evaluation.confusion.match_image`` per class) -- boxes the
  user only checks instead of drawing;
* precision: the share of pre-labels that match a ground-truth box (the others the user deletes);
* corrections per image: missed boxes + wrong pre-labels.

The ranking is checked the same way: corrections per image in the first quarter of ``to_label.csv`` against
the last quarter. Results: ``--out``/results.json and a table on stdout.
"""
import argparse
import csv
import json
from pathlib import Path
import random
import shutil
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edgetpu_detector.core.env  # noqa: E402,F401
import numpy as np  # noqa: E402

from edgetpu_detector.data.formats.voc_xml import parse_voc_xml  # noqa: E402
from edgetpu_detector.data.label_map import read_label_map, write_labels_txt  # noqa: E402
from edgetpu_detector.data.preprocess import preprocess  # noqa: E402
from edgetpu_detector.evaluation.confusion import match_image  # noqa: E402
from edgetpu_detector.export.calibration import representative_images  # noqa: E402
from edgetpu_detector.export.deployment import resolve_max_detections  # noqa: E402
from edgetpu_detector.export.tflite_converter import convert_int8_tflite  # noqa: E402
from edgetpu_detector.inference.predict import predict  # noqa: E402
from edgetpu_detector.ssd.checkpoint import load_trained_detector  # noqa: E402
from edgetpu_detector.ssd.models.ssd import DetectorConfig  # noqa: E402
from edgetpu_detector.ssd.postprocess import NMSConfig  # noqa: E402
from edgetpu_detector.training.config import TrainConfig  # noqa: E402
from edgetpu_detector.training.loop import train  # noqa: E402

RACCOON = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "raccoon"


def stage(names, target, with_xml):
    """Copy raccoon's images (and their XML) named ``names`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(RACCOON / "images" / name, target / name)
        if with_xml:
            shutil.copyfile(RACCOON / "annotations" / f"{Path(name).stem}.xml", target / f"{Path(name).stem}.xml")


def image_outcome(gt, prelabels):
    """(ground-truth boxes, matched, pre-labels) of one image; boxes as (class, xmin, ymin, xmax, ymax) pixels.

    Matching per class at IoU >= 0.5, best score first (``prelabels`` given in descending score order)."""
    matched = 0
    for name in {b[0] for b in gt} | {b[0] for b in prelabels}:
        g = np.array([[b[2], b[1], b[4], b[3]] for b in gt if b[0] == name], np.float32).reshape(-1, 4)
        p = np.array([[b[2], b[1], b[4], b[3]] for b in prelabels if b[0] == name], np.float32).reshape(-1, 4)
        if len(g) and len(p):
            pairs, _, _ = match_image(g, p, np.linspace(1.0, 0.5, len(p)), score_threshold=0.0, iou_threshold=0.5)
            matched += len(pairs)
    return len(gt), matched, len(prelabels)


def summarize(outcomes):
    """Totals and shares over ``[(gt, matched, prelabels)]``."""
    gt, matched, pre = (int(sum(o[i] for o in outcomes)) for i in range(3))
    corrections = (gt - matched) + (pre - matched)
    return {"images": len(outcomes), "gt_boxes": gt, "prelabels": pre, "matched": matched,
            "boxes_saved": matched / gt if gt else 0.0, "precision": matched / pre if pre else 0.0,
            "corrections_per_image": corrections / max(len(outcomes), 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labelled", type=int, default=20, help="images the user labelled first")
    parser.add_argument("--num-steps", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--score-threshold", type=float, default=0.3, help="pre-label threshold")
    parser.add_argument("--thresholds", default="0.3,0.4,0.5,0.6")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("/tmp/labelling_loop"))
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    names = sorted(p.name for p in (RACCOON / "images").glob("*.jpg"))
    random.Random(args.seed).shuffle(names)
    labelled, rest = sorted(names[:args.labelled]), sorted(names[args.labelled:])
    stage(labelled, args.out / "labelled", with_xml=True)
    stage(rest, args.out / "unlabelled", with_xml=False)
    timings = {}

    started = time.perf_counter()
    data = preprocess(args.out / "labelled", args.out / "data", test_fraction=0.0, seed=args.seed, progress=False)
    names_to_ids = read_label_map(data.label_map_path)
    config = DetectorConfig(image_size=args.image_size, num_classes=len(names_to_ids))
    train(config, str(data.train_record), args.out / "train",
          TrainConfig(num_steps=args.num_steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
                      warmup_steps=min(30, args.num_steps // 10), checkpoint_every=10 ** 9, seed=args.seed),
          base_weights="auto", progress=False)
    timings["train_s"] = time.perf_counter() - started

    started = time.perf_counter()
    model, model_config = load_trained_detector(args.out / "train")
    export = args.out / "export"
    export.mkdir()
    # the deployed post-processing (op threshold 0, per-class NMS), with the auto slot count of the labelled set
    nms = NMSConfig(max_detections=resolve_max_detections("auto", [str(data.train_record)]))
    int8 = convert_int8_tflite(model, model_config, representative_images(str(data.train_record), len(labelled)),
                               export / "model_int8.tflite", nms)
    write_labels_txt(names_to_ids, export / "labels.txt")
    timings["convert_s"] = time.perf_counter() - started

    started = time.perf_counter()
    result = predict(int8, args.out / "unlabelled", args.out / "predict", score_threshold=args.score_threshold,
                     prelabel_format="voc", progress=False)
    timings["predict_s"] = time.perf_counter() - started

    rows = list(csv.DictReader((args.out / "predict" / "detections.csv").open()))
    gt = {}
    for name in rest:
        annotation = parse_voc_xml(RACCOON / "annotations" / f"{Path(name).stem}.xml")
        gt[name] = [(o.name, o.xmin, o.ymin, o.xmax, o.ymax) for o in annotation.objects]
    by_threshold = {}
    for threshold in (float(t) for t in args.thresholds.split(",")):
        outcomes = {}
        for name in rest:
            pre = [(r["class_name"], *(float(r[k]) for k in ("xmin_px", "ymin_px", "xmax_px", "ymax_px")))
                   for r in rows if r["source"] == name and float(r["score"]) >= threshold]
            outcomes[name] = image_outcome(gt[name], pre)
        by_threshold[threshold] = (summarize(list(outcomes.values())), outcomes)

    written = []  # the pre-label files themselves, as LabelImg would open them
    for name in rest:
        annotation = parse_voc_xml(args.out / "predict" / "prelabels" / f"{Path(name).stem}.xml")
        written.append(image_outcome(gt[name], [(o.name, o.xmin, o.ymin, o.xmax, o.ymax) for o in annotation.objects]))
    from_files = summarize(written)

    ranking = [r["image"] for r in csv.DictReader(result.ranking_path.open())]
    quarter = len(ranking) // 4
    at_threshold = by_threshold[args.score_threshold][1]
    top, bottom = (summarize([at_threshold[n] for n in part]) for part in (ranking[:quarter], ranking[-quarter:]))
    results = {"settings": {k: str(v) for k, v in vars(args).items()}, "labelled_images": len(labelled),
               "prelabelled_images": len(rest), "timings_s": timings,
               "by_threshold": {str(t): s for t, (s, _) in by_threshold.items()},
               "prelabel_files": from_files, "ranking_first_quarter": top, "ranking_last_quarter": bottom}
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nraccoon: trained on {len(labelled)} labelled images ({args.num_steps} steps, {args.image_size} px, "
          f"{timings['train_s']:.0f} s), int8 TFLite pre-labels on the other {len(rest)}")
    print(f"{'threshold':>9s} {'GT boxes':>8s} {'pre-labels':>10s} {'saved':>6s} {'precision':>9s} {'fixes/img':>9s}")
    for t, (s, _) in by_threshold.items():
        print(f"{t:9.2f} {s['gt_boxes']:8d} {s['prelabels']:10d} {s['boxes_saved']:6.1%} {s['precision']:9.1%} "
              f"{s['corrections_per_image']:9.2f}")
    print(f"pre-label files at {args.score_threshold}: saved {from_files['boxes_saved']:.1%}, precision "
          f"{from_files['precision']:.1%}")
    print(f"ranking: corrections per image, first quarter {top['corrections_per_image']:.2f} vs last quarter "
          f"{bottom['corrections_per_image']:.2f} ({quarter} images each)")


if __name__ == "__main__":
    main()

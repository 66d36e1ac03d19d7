"""Class names across a dataset: case/whitespace variants and the label map.

Policy (codes in edgetpu_detector.data.issues):

* names are stripped of surrounding whitespace; names equal ignoring case are one class
  (``label_variant``, fixed): with a given label map the map's spelling wins, otherwise the most
  frequent spelling in the data (ties: the first in code-point order);
* with a given label map, a class it does not name (even ignoring case) is ``label_not_in_map``: its
  boxes are skipped and counted; label-map classes without boxes are ``class_unused`` (kept);
* without a label map, one is generated from the canonical names (edgetpu_detector.data.label_map.make_label_map:
  sorted, ids 1..N), so the ids are the same for every split.
"""
from __future__ import annotations

from collections import Counter

from edgetpu_detector.data.issues import Issues
from edgetpu_detector.tfrecord.records import ImageRecord


def canonical_names(counts: Counter, label_map_names=None) -> dict[str, str]:
    """Map every (stripped) class name in ``counts`` ({name: boxes}) to its canonical spelling.

    Names whose case-folded form is not in ``label_map_names`` (when given) map to themselves.
    """
    groups: dict[str, list[str]] = {}
    for name in counts:
        groups.setdefault(name.casefold(), []).append(name)
    from_map = {}
    for name in label_map_names or ():
        from_map.setdefault(name.casefold(), name)
    mapping = {}
    for key, names in groups.items():
        if label_map_names is not None:
            target = from_map.get(key)
            if target is None:
                target = None
        else:
            target = sorted(names, key=lambda n: (-counts[n], n))[0]
        for name in names:
            mapping[name] = target if target is not None else name
    return mapping


def apply_label_policy(records: list[ImageRecord], issues: Issues, label_map_names=None) -> None:
    """Rename variants and drop classes missing from the label map, in place, reporting each change.

    One ``label_variant`` / ``label_not_in_map`` issue per (annotation file, class name as written).
    """
    counts = Counter(box.label for record in records for box in record.boxes)
    mapping = canonical_names(counts, label_map_names)
    known = set(label_map_names) if label_map_names is not None else None
    for record in records:
        renamed: Counter = Counter()
        dropped: Counter = Counter()
        kept = []
        for box in record.boxes:
            target = mapping[box.label]
            if known is not None and target not in known:
                dropped[box.label] += 1
                continue
            if target != box.label:
                renamed[(box.label, target)] += 1
                box = box._replace(label=target)
            kept.append(box)
        for (name, target), n in renamed.items():
            issues.add("label_variant", record.xml_path, f"class {name!r} differs from {target!r} only in case",
                       f"renamed to {target!r} ({n} boxes)")
        for name, n in dropped.items():
            issues.counts["boxes_skipped"] += n
            issues.add("label_not_in_map", record.xml_path, f"class {name!r} is not in the label map",
                       f"box skipped ({n} boxes)" if n == 1 else f"boxes skipped ({n} boxes)")
        record.boxes = kept

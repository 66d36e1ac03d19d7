"""Seeded train/test splits: plain (``seeded_split``) and stratified by class (``stratified_split``)."""
from __future__ import annotations

from collections import Counter
import random

NEGATIVE_GROUP = ""  # images without boxes


def seeded_split(items: list, test_fraction: float, seed: int) -> tuple[list, list]:
    """Split a sorted list into (train, test) with a seeded shuffle; each part keeps the input order.

    ``round(len(items) * test_fraction)`` items go to test (at least 1 when test_fraction > 0 and
    there are 2 or more items). Deterministic for the same items and seed (``random.Random(seed)``).

    Raises:
        ValueError: when test_fraction is not in [0, 1).
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(len(items) * test_fraction))
    if test_fraction > 0 and n_test == 0 and len(items) >= 2:
        n_test = 1
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    test_index = set(order[:n_test])
    train = [item for i, item in enumerate(items) if i not in test_index]
    test = [item for i, item in enumerate(items) if i in test_index]
    return train, test


def stratified_split(records: list, test_fraction: float, seed: int) -> tuple[list, list]:
    """Split ImageRecords into (train, test) so every class lands in both splits where possible.

    Each image joins the group of its rarest class (fewest images holding it, ties by name; images
    without boxes form their own group); each group is split by ``seeded_split`` with a seed derived
    from ``seed`` and the group name, keeping at least one image of a group of two or more in train.
    With one class this is exactly ``seeded_split``. Both parts keep the input order; deterministic.

    Raises:
        ValueError: when test_fraction is not in [0, 1).
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    images_per_class = Counter(label for r in records for label in {b.label for b in r.boxes})
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        labels = {b.label for b in record.boxes}
        key = min(labels, key=lambda n: (images_per_class[n], n)) if labels else NEGATIVE_GROUP
        groups.setdefault(key, []).append(index)
    if len(groups) == 1:
        return seeded_split(records, test_fraction, seed)
    test_index = set()
    for key in sorted(groups):
        members = groups[key]
        _, test = seeded_split(members, test_fraction, f"{seed}:{key}" if key else f"{seed}:")
        if len(test) == len(members) and len(members) >= 2:
            test = test[:-1]
        test_index.update(test)
    train = [r for i, r in enumerate(records) if i not in test_index]
    test = [r for i, r in enumerate(records) if i in test_index]
    return train, test

"""Seeded train/test splits: plain (``seeded_split``) and stratified by class (``stratified_split``), and the
validation split carved from the training images (``carve_validation``)."""
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


# The fewest images a carved validation split may hold: below it the val mAP of one checkpoint against the next
# is noise (one image flips AP by 1/n), so no split is carved and training runs its whole budget.
MIN_VAL_IMAGES = 4


def carve_validation(train: list, val_fraction: float, seed) -> tuple[list, list, str]:
    """Hold out a validation split from the training images, seeded and stratified like the train/test split.

    ``stratified_split(train, val_fraction, f"{seed}:val")``: the validation images are drawn from the
    training images only, so the test split stays unseen until evaluation. No split is carved when
    ``val_fraction`` is 0 or when ``round(len(train) * val_fraction)`` is below ``MIN_VAL_IMAGES``.

    Returns:
        (train, val, note): both parts keep the input order; ``note`` says in words what was done (for the
        console and the reports).

    Raises:
        ValueError: when val_fraction is not in [0, 1).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if val_fraction == 0:
        return train, [], "no validation split (val_fraction 0)"
    wanted = int(round(len(train) * val_fraction))
    if wanted < MIN_VAL_IMAGES:
        return train, [], (f"no validation split: {len(train)} training images x val_fraction {val_fraction:g} "
                           f"= {wanted}, fewer than {MIN_VAL_IMAGES}; training runs its whole budget")
    rest, val = stratified_split(train, val_fraction, f"{seed}:val")
    return rest, val, f"validation split: {len(val)} of {len(train)} training images (val_fraction {val_fraction:g})"


# ``val_fraction=auto``: the share held out of real data; the synthetic demo holds none (its budget is fixed).
DEFAULT_VAL_FRACTION = 0.1


def resolve_val_fraction(value, synthetic: bool) -> float:
    """The ``val_fraction`` parameter as a number: ``auto`` -> ``DEFAULT_VAL_FRACTION`` for real data, 0 for the
    synthetic demo; else the number given.

    Raises:
        ValueError: neither ``auto`` nor a number in [0, 1).
    """
    text = str(value).strip().lower()
    if text == "auto":
        return 0.0 if synthetic else DEFAULT_VAL_FRACTION
    try:
        fraction = float(text)
    except ValueError:
        raise ValueError(f"val_fraction must be auto or a number in [0, 1), got {value!r}") from None
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"val_fraction must be auto or a number in [0, 1), got {value!r}")
    return fraction

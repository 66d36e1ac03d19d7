"""The val split is carved from the training images only (seeded, stratified like train/test); the test split is
the same with or without it; a dataset's own val split is used as it is; a tiny set gets none, with a reason."""
from collections import Counter

import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.split import MIN_VAL_IMAGES, carve_validation, resolve_val_fraction


def _names(records):
    return [r.relpath for r in records]


@pytest.mark.parametrize("dataset", ["raccoon", "playing_cards"])
def test_val_comes_from_train_and_test_is_untouched(shared_dir, dataset):
    folder = shared_dir / "datasets" / dataset
    without = discover_dataset(folder, seed=42)
    carved = discover_dataset(folder, seed=42, val_fraction=0.1)
    assert _names(carved.test) == _names(without.test)  # the test split never changes
    train, val, test = set(_names(carved.train)), set(_names(carved.val)), set(_names(carved.test))
    assert not train & val and not train & test and not val & test
    assert train | val == set(_names(without.train))
    assert len(val) == pytest.approx(0.1 * len(without.train), abs=len(carved.class_names))
    # stratified: every class of the training images is in the val split too
    assert {b.label for r in carved.val for b in r.boxes} == {b.label for r in without.train for b in r.boxes}
    assert _names(discover_dataset(folder, seed=42, val_fraction=0.1).val) == _names(carved.val)  # seeded
    assert _names(discover_dataset(folder, seed=7, val_fraction=0.1).val) != _names(carved.val)
    assert "validation split:" in carved.val_source


def test_a_tiny_training_split_gets_no_val_split_and_says_why(shared_dir):
    fruit = discover_dataset(shared_dir / "datasets/fruit_nuts/data", val_fraction=0.1)
    assert fruit.val == [] and len(fruit.train) == 16
    assert f"fewer than {MIN_VAL_IMAGES}" in fruit.val_source and "whole budget" in fruit.val_source


def test_carve_validation_bounds_and_the_auto_fraction():
    items = list(range(3))
    assert carve_validation(items, 0.0, 1) == (items, [], "no validation split (val_fraction 0)")
    with pytest.raises(ValueError, match="val_fraction"):
        carve_validation(items, 1.0, 1)
    assert resolve_val_fraction("auto", synthetic=False) == 0.1 and resolve_val_fraction("auto", synthetic=True) == 0
    assert resolve_val_fraction("0.25", synthetic=True) == 0.25
    for bad in ("half", "1.5", "-0.1"):
        with pytest.raises(ValueError, match="val_fraction"):
            resolve_val_fraction(bad, synthetic=False)


def test_a_datasets_own_val_folder_is_used(shared_dir, tmp_path):
    """A ``val/`` folder beside ``train/`` and ``test/`` is the val split; nothing is carved from train."""
    import shutil

    source = shared_dir / "datasets/fruit_nuts/data/images"
    for split in ("train", "test"):
        shutil.copytree(source / split, tmp_path / split)
    (tmp_path / "val").mkdir()
    moved = sorted((tmp_path / "train").glob("*.xml"))[:3]
    for xml in moved:
        for path in (xml, xml.with_suffix(".jpg")):
            path.rename(tmp_path / "val" / path.name)
    dataset = discover_dataset(tmp_path, val_fraction=0.5)
    assert sorted(r.relpath.split("/")[-1] for r in dataset.val) == sorted(x.with_suffix(".jpg").name for x in moved)
    assert len(dataset.train) == 13 and "own val split" in dataset.val_source
    assert Counter(r.split for r in dataset.val) == {"val": 3}

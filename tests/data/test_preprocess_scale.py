"""Parallel encoding, shards, stratified split and val folders of the preprocess step (small generated data)."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

from collections import Counter

import pytest

from edgetpu_detector.data.dataset import discover_dataset
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.data.split import stratified_split
from edgetpu_detector.data.synthetic import make_synthetic_dataset
from edgetpu_detector.tfrecord.reader import read_examples
from edgetpu_detector.tfrecord.shards import record_file, record_files
from tests.data.defect_corpus import jpeg, xml


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("syn") / "data", num_train=40, num_test=10, seed=5)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_parallel_output_is_byte_identical_to_serial(synthetic, tmp_path):
    serial = preprocess(synthetic, tmp_path / "serial", progress=False, num_workers=1)
    parallel = preprocess(synthetic, tmp_path / "parallel", progress=False, num_workers=2)
    assert _files(tmp_path / "serial") == _files(tmp_path / "parallel")
    assert serial.passthrough_images == parallel.passthrough_images == 50  # RGB JPEGs pass through


def test_shards_hold_every_example_and_consumers_find_them(synthetic, tmp_path):
    single = preprocess(synthetic, tmp_path / "one", progress=False, num_workers=1)
    sharded = preprocess(synthetic, tmp_path / "three", progress=False, num_workers=1, num_shards=3)
    names = [p.name for p in sharded.record_paths["train"]]
    assert names == [f"train.record-0000{i}-of-00003" for i in range(3)]
    assert record_files(tmp_path / "three", "train") == sharded.record_paths["train"]
    assert record_files(tmp_path / "one", "train") == [tmp_path / "one" / "train.record"]
    per_shard = [[e["source_id"] for e in read_examples(p)] for p in sharded.record_paths["train"]]
    expected = [e["source_id"] for e in read_examples(single.train_record)]
    assert [len(s) for s in per_shard] == [14, 13, 13]
    assert per_shard == [expected[i::3] for i in range(3)]  # example i goes to shard i % 3
    merged = record_file(tmp_path / "three", "test")  # concatenated shards: one valid TFRecord
    assert Counter(e["sha256"] for e in read_examples(merged)) == Counter(e["sha256"] for e in read_examples(single.test_record))
    with pytest.raises(ValueError, match="num_shards"):
        preprocess(synthetic, tmp_path / "bad", progress=False, num_shards=0)
    with pytest.raises(FileNotFoundError, match="no val.record"):
        record_files(tmp_path / "one", "val")


def _flat_multiclass(folder, counts):
    folder.mkdir()
    index = 0
    for name, n in counts.items():
        for _ in range(n):
            jpeg(folder / f"{index:03d}.jpg", size=(40, 30))
            xml(folder / f"{index:03d}.xml", f"{index:03d}.jpg", [(name, 1, 1, 20, 20)], size=(40, 30))
            index += 1


def test_stratified_split_puts_every_class_in_both_splits(tmp_path):
    _flat_multiclass(tmp_path / "data", {"common": 40, "rare": 3, "rarer": 2})
    dataset = discover_dataset(tmp_path / "data", test_fraction=0.2, seed=1)
    assert dataset.split_source == "ratio"
    for split in (dataset.train, dataset.test):
        assert {b.label for r in split for b in r.boxes} == {"common", "rare", "rarer"}
    assert (len(dataset.train), len(dataset.test)) == (35, 10)
    again = discover_dataset(tmp_path / "data", test_fraction=0.2, seed=1)
    other = discover_dataset(tmp_path / "data", test_fraction=0.2, seed=2)
    assert [r.relpath for r in again.test] == [r.relpath for r in dataset.test]
    assert [r.relpath for r in other.test] != [r.relpath for r in dataset.test]
    train, test = stratified_split(dataset.train + dataset.test, 0.0, 1)
    assert test == [] and len(train) == 45


def test_val_folder_is_kept(tmp_path):
    data = tmp_path / "data"
    for split, n in (("train", 3), ("test", 2), ("val", 2)):
        (data / split).mkdir(parents=True)
        for i in range(n):
            jpeg(data / split / f"{split}{i}.jpg")
            xml(data / split / f"{split}{i}.xml", f"{split}{i}.jpg", [("cat", 1, 1, 20, 20)])
    (data / "stray.xml").write_bytes(b"")  # under no split folder
    result = preprocess(data, tmp_path / "out", progress=False, num_workers=1)
    assert {s: v["images"] for s, v in result.summary.items()} == {"train": 3, "test": 2, "val": 2}
    assert [e["filename"] for e in read_examples(tmp_path / "out" / "val.record")] == ["val0.jpg", "val1.jpg"]
    assert (tmp_path / "out" / "val_labels.csv").read_text().count("\n") == 3
    assert [(w["code"], w["file"], w["action"]) for w in result.warnings] == [
        ("annotation_invalid", "stray.xml", "skipped")]

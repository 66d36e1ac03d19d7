"""PASCAL VOC "difficult" objects, as LabelImg's checkbox writes them: carried into the records
(``image/object/difficult``, ``image/object/truncated``), and left out of training with ``ignore_difficult``."""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before it is imported)

import shutil

import numpy as np
import pytest

from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.tfrecord import schema
from edgetpu_detector.tfrecord.example_proto import parse_example_features, serialize_example
from edgetpu_detector.tfrecord.reader import read_examples
from tests.labelimg_tools import PascalVocReader, write_labelimg


@pytest.fixture(scope="module")
def marked(shared_dir, tmp_path_factory):
    """fruit_nuts re-saved with LabelImg's VOC writer, every third object ticked "difficult"; returns the folder
    and ``{image name: [difficult flag per object]}``."""
    source = shared_dir / "datasets/fruit_nuts/data/images"
    root = tmp_path_factory.mktemp("difficult") / "data"
    flags = {}
    for split in ("train", "test"):
        (root / split).mkdir(parents=True)
        for xml in sorted((source / split).glob("*.xml")):
            annotation = parse_voc_xml(xml)
            shutil.copyfile(source / split / annotation.filename, root / split / annotation.filename)
            objects = [(o.name, o.xmin, o.ymin, o.xmax, o.ymax, i % 3 == 0) for i, o in enumerate(annotation.objects)]
            path = write_labelimg("voc", root / split / annotation.filename, annotation.width, annotation.height,
                                  objects, [])
            flags[annotation.filename] = [d for *_, d in objects]
            assert [shape[4] for shape in PascalVocReader(str(path)).get_shapes()] == flags[annotation.filename]
    return root, flags


def _examples(result, split):
    return {e["filename"]: e for e in read_examples(result.record_paths[split][0])}


def test_difficult_flags_reach_the_records(marked, tmp_path):
    root, flags = marked
    result = preprocess(root, tmp_path, progress=False, num_workers=1)
    total = sum(sum(f) for f in flags.values())
    assert total == sum((len(f) + 2) // 3 for f in flags.values()) and total > 0
    assert result.counts["boxes_difficult"] == total and result.counts["boxes_difficult_ignored"] == 0
    assert result.counts["boxes_kept"] == 164 and result.metrics()["data/boxes_difficult"] == total
    for split in ("train", "test"):
        for name, example in _examples(result, split).items():
            assert example["difficult"].tolist() == flags[name]
            assert example["truncated"].dtype == bool and len(example["truncated"]) == len(flags[name])


def test_ignore_difficult_drops_them_from_train_only(marked, tmp_path):
    root, flags = marked
    result = preprocess(root, tmp_path, progress=False, num_workers=1, ignore_difficult=True)
    train, test = _examples(result, "train"), _examples(result, "test")
    dropped = sum(sum(flags[name]) for name in train)
    assert result.counts["boxes_difficult_ignored"] == dropped > 0
    assert result.counts["boxes_in"] == 164 == result.counts["boxes_kept"] + result.counts["boxes_skipped"]
    assert result.counts["boxes_skipped"] == dropped
    assert result.summary["train"]["boxes"] == sum(len(flags[n]) - sum(flags[n]) for n in train)
    for name, example in train.items():
        assert not example["difficult"].any() and len(example["classes"]) == len(flags[name]) - sum(flags[name])
    for name, example in test.items():  # kept, flagged: evaluation treats them as "don't care"
        assert example["difficult"].tolist() == flags[name]
    issues = [w for w in result.warnings if w["code"] == "difficult_ignored"]
    assert len(issues) == sum(1 for n in train if any(flags[n])) and issues[0]["action"].startswith("left out")


def test_records_without_the_flags_still_read(tmp_path):
    """Records written before the flags existed read with every box not difficult, not truncated."""
    from PIL import Image
    import io

    jpeg = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(jpeg, format="JPEG")
    features = {schema.ENCODED: [jpeg.getvalue()], schema.FORMAT: [b"jpeg"], schema.HEIGHT: [6],
                schema.WIDTH: [8], schema.XMIN: [0.1, 0.2], schema.XMAX: [0.5, 0.6], schema.YMIN: [0.1, 0.2],
                schema.YMAX: [0.5, 0.7], schema.CLASS_TEXT: [b"a", b"b"], schema.CLASS_LABEL: [1, 2]}
    data = serialize_example(features)
    assert schema.DIFFICULT not in parse_example_features(data)
    import tensorflow as tf

    path = tmp_path / "old.record"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(data)
    (example,) = read_examples(path)
    np.testing.assert_array_equal(example["difficult"], [False, False])
    np.testing.assert_array_equal(example["truncated"], [False, False])

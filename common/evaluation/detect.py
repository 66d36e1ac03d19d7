"""Run a detector over a test split, keeping the ground truth beside the detections."""
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from common.input_pipeline import evaluation_dataset
from common.postprocess import NMSConfig, postprocess


def keras_detect_fn(model, config, nms=NMSConfig(score_threshold=0.0)):
    """Detection function of a Keras detector.

    Args:
      model: keras.Model from ``common.models.build_detector``.
      config: its DetectorConfig.
      nms: NMSConfig (evaluation uses score threshold 0 and up to 100 detections).

    Returns:
      ``fn(image float32 [S, S, 3] in [0, 255]) -> dict`` of numpy ``boxes`` float32 [M, 4] (ymin, xmin,
      ymax, xmax normalized), ``classes`` int32 [M] label-map ids, ``scores`` float32 [M].
    """
    anchors = tf.constant(config.generate_anchors())

    @tf.function(input_signature=[tf.TensorSpec([1, config.image_size, config.image_size, 3], tf.float32)])
    def detect(images):
        box_encodings, class_logits = model(images, training=False)
        return postprocess(box_encodings, class_logits, anchors, config.box_coder, nms)

    def fn(image):
        out = detect(tf.convert_to_tensor(image, tf.float32)[tf.newaxis])
        n = int(out["num_detections"][0])
        return {"boxes": out["detection_boxes"][0, :n].numpy(),
                "classes": out["detection_classes"][0, :n].numpy().astype(np.int32),
                "scores": out["detection_scores"][0, :n].numpy()}

    return fn


def detect_records(detect_fn, record_path, image_size, keep_images=False, progress=True):
    """Apply ``detect_fn`` to every image of a TFRecord file.

    Args:
      detect_fn: callable as returned by ``keras_detect_fn``.
      record_path: str, TFRecord in the TF OD API schema.
      image_size: int, the model's square input side.
      keep_images: keep each original uint8 [H, W, 3] image under ``image`` (for drawing).
      progress: show a progress bar.

    Returns:
      list of dicts (one per image, in record order) with ``filename``, ``height``, ``width``,
      ``gt_boxes``, ``gt_classes``, ``det_boxes``, ``det_classes``, ``det_scores`` (see
      ``common.evaluation.coco_metrics.coco_metrics``) and optionally ``image``.
    """
    results = []
    for example in tqdm(evaluation_dataset(record_path, image_size), desc="evaluate", unit="img",
                        disable=not progress):
        det = detect_fn(example["image"].numpy())
        entry = {"filename": example["filename"].numpy().decode("utf-8"),
                 "height": int(example["height"]), "width": int(example["width"]),
                 "gt_boxes": example["boxes"].numpy(), "gt_classes": example["classes"].numpy(),
                 "det_boxes": det["boxes"], "det_classes": det["classes"], "det_scores": det["scores"]}
        if keep_images:
            entry["image"] = example["original"].numpy()
        results.append(entry)
    return results

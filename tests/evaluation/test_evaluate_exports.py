"""The evaluate step measures the files the convert step exported, the deployed int8 model first."""
import edgetpu_detector.core.env  # noqa: F401

import json

import pytest

from edgetpu_detector.evaluation.evaluate import evaluate_detector


def test_headline_is_the_deployed_model_and_every_form_is_measured(exported_detector, tmp_path):
    data, result = exported_detector["data"], exported_detector["result"]
    evaluation = evaluate_detector(result.output_dir, exported_detector["root"] / "model", data.test_record,
                                   data.label_map_path, tmp_path / "evaluation", progress=False)
    assert list(evaluation.metrics) == ["int8_tflite", "float_tflite", "saved_model", "keras"]
    assert evaluation.headline_form == "int8_tflite"
    logged = evaluation.mlflow_metrics()
    assert logged["eval/mAP"] == logged["eval/int8_tflite/mAP"] and logged["eval/num_images"] == 2
    assert logged["eval/keras_gap"] == pytest.approx(100 * (logged["eval/keras/mAP"] - logged["eval/mAP"]))
    # the float TFLite model and the SavedModel share the post-processing: the same figures
    assert logged["eval/float_tflite/mAP"] == pytest.approx(logged["eval/saved_model/mAP"], abs=0.01)
    report = json.loads((tmp_path / "evaluation" / "metrics.json").read_text())
    assert report["headline_form"] == "int8_tflite" and report["confusion_matrix"]["score_threshold"] == 0.3
    assert {p.name for p in evaluation.files} >= {"metrics.json", "test_detections.png", "coco_summary_keras.txt"}

"""The preprocess and retrain steps with a val split: the budget is planned and logged, validation reads the val
split only (never the test split), and the kept weights' val metrics are logged."""
import edgetpu_detector.training.validation as validation
from edgetpu_detector.training.convergence import still_rising
from steps import preprocess as preprocess_step
from steps import retrain as retrain_step


def test_retrain_validates_on_the_val_split_only(shared_dir, local_store, monkeypatch):
    client, experiment = local_store
    read = []
    detect_records = validation.detect_records
    monkeypatch.setattr(validation, "detect_records",
                        lambda detector, paths, *a, **k: read.append(list(paths)) or detect_records(detector, paths,
                                                                                                    *a, **k))
    # fruit_nuts: 16 training images; val_fraction 0.3 holds out 5 of them (auto, 0.1, would be too few)
    preprocess_step.main(["--data-dir", str(shared_dir / "datasets/fruit_nuts/data"), "--val-fraction", "0.3",
                          "--num-workers", "1"])
    data_run = client.search_runs([experiment])[0]
    assert data_run.data.metrics["data/val_images"] == 5 and data_run.data.metrics["data/train_images"] == 11
    assert data_run.data.tags["dataset_kind"] == "real" and "5 of 16" in data_run.data.tags["val_source"]
    retrain_step.main(["--data-run-id", data_run.info.run_id, "--model", "ssdlite_mobilenet_v2", "--alpha", "0.35",
                       "--image-size", "96", "--batch-size", "4", "--num-steps", "6", "--validation-every", "2",
                       "--base-weights", "none", "--checkpoint-every", "100"])
    run = [r for r in client.search_runs([experiment]) if r.info.run_id != data_run.info.run_id][0]
    assert read and all(path.endswith("val.record") for paths in read for path in paths)
    metrics = run.data.metrics
    assert metrics["train/budget/num_steps"] == 6 and metrics["train/budget/num_train_images"] == 11
    assert metrics["train/budget/num_val_images"] == 5
    assert metrics["train/budget/warmup_steps"] == 1  # a tenth of 6, rounded
    assert metrics["train/budget/early_stopping_patience"] == 4 and metrics["train/steps"] == 6
    history = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val/mAP"))
    assert [step for step, _ in history] == [2, 4, 6]
    assert metrics["val/best/step"] in (2, 4, 6) and 0.0 <= metrics["val/best/mAP"] <= 1.0
    assert run.data.tags["train/still_rising"] == str(still_rising(history)).lower()
    assert run.data.tags["train/stopped_by"] == "budget" and run.data.tags["train/budget_rule"] == "num_steps given"
    assert not any(key.startswith("eval/") for key in metrics)


def test_the_synthetic_demo_holds_out_no_val_split(local_store):
    client, experiment = local_store
    preprocess_step.main(["--num-workers", "1"])
    run = client.search_runs([experiment])[0]
    assert run.data.tags["dataset_kind"] == "synthetic" and "val_fraction 0" in run.data.tags["val_source"]
    assert run.data.metrics["data/train_images"] == 60 and "data/val_images" not in run.data.metrics

"""The step cache's identity of a step, content fingerprints, failure records and credential masking."""
import os
from pathlib import Path
import shutil

from mlflow.tracking import MlflowClient
import pytest

from edgetpu_detector.core.hashing import content_fingerprint
from edgetpu_detector.tracking.failures import error_tags, record_step_failure
from edgetpu_detector.tracking.parameters import entry_point_parameters, normalize_parameters
from edgetpu_detector.tracking.redact import redact, redact_uri, secret_values
from edgetpu_detector.tracking.step_cache import (
    CACHE_KEY_TAG,
    CodeVersion,
    cache_key,
    code_version,
    find_reusable_run,
    input_fingerprints,
    parse_force_rerun,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
STEPS = ("preprocess", "retrain", "evaluate", "convert")


def test_parameters_compare_as_normalized_values(tmp_path):
    types = entry_point_parameters(PROJECT_DIR, "retrain")
    # num_steps takes auto or a number: as text, numbers still compare as values
    assert types["num_steps"].kind == "text" and types["augmentations"].kind == "list"
    assert normalize_parameters({"num_steps": "auto"}, types) == normalize_parameters({"num_steps": " auto "}, types)
    typed = normalize_parameters({"num_steps": "300", "learning_rate": "0.001", "augmentations": "flip,crop",
                                  "freeze_batch_norm": "auto"}, types)
    same = normalize_parameters({"num_steps": "300.0", "learning_rate": "1e-3", "augmentations": " crop, flip,",
                                 "freeze_batch_norm": "auto"}, types)
    assert typed == same
    assert normalize_parameters({"num_steps": "301"}, types) != normalize_parameters({"num_steps": "300"}, types)
    convert = entry_point_parameters(PROJECT_DIR, "convert")
    assert normalize_parameters({"use_regular_nms": "True"}, convert) == \
        normalize_parameters({"use_regular_nms": "true"}, convert)
    # A relative and an absolute spelling of the same folder are the same parameter.
    (tmp_path / "data").mkdir()
    pre = entry_point_parameters(PROJECT_DIR, "preprocess")
    relative = Path(os.path.relpath(tmp_path / "data"))
    assert normalize_parameters({"data_dir": str(relative)}, pre) == \
        normalize_parameters({"data_dir": str(tmp_path / "data")}, pre)
    with pytest.raises(KeyError, match="no entry point 'nope'"):
        entry_point_parameters(PROJECT_DIR, "nope")


# Keys of the step cache before the package restructure (computed with that code for these exact parameters
# and code version): the identity of a step did not change with the layout, only with its declared parameters.
GOLDEN_KEYS = {
    "retrain": ({"model": "ssdlite_mobilenet_v2", "alpha": "1.0", "image_size": "300", "batch_size": "8",
                 "num_steps": "300.0", "learning_rate": "1e-3", "base_weights": "none",
                 "augmentations": "photometric, flip,crop", "freeze_backbone_steps": "0", "freeze_batch_norm": "auto",
                 "validation_every": "0", "early_stopping_patience": "0", "strategy": "default",
                 "checkpoint_every": "100", "seed": "42"},
                "77f807f77366292932bcba36295baf78f38db356bbd63f3d4ba7dbf6fb087687"),
    "convert": ({"num_calibration_images": "100", "score_threshold": "0.3", "iou_threshold": "0.6",
                 "max_detections": "10", "use_regular_nms": "False"},
                "eb025c2b6d5f1246ee6caf062294e31abd242b8367a76b1031f625ae429dd8c6"),
}


@pytest.mark.parametrize("entry_point", sorted(GOLDEN_KEYS))
def test_cache_key_of_the_same_parameters_is_unchanged(entry_point):
    parameters, key = GOLDEN_KEYS[entry_point]
    normalized = normalize_parameters(parameters, entry_point_parameters(PROJECT_DIR, entry_point))
    code = CodeVersion("0" * 40, "1" * 64)
    assert cache_key(entry_point, normalized, code, {"data_run_id": "a" * 32}, {}) == key


def test_cache_key_changes_with_code_upstream_and_data(tmp_path):
    code = code_version(PROJECT_DIR)
    assert len(code.content_hash) == 64 and code.content_hash == code_version(PROJECT_DIR).content_hash
    params = {"num_steps": "300.0"}
    key = cache_key("retrain", params, code, {"data_run_id": "a"})
    assert key == cache_key("retrain", dict(params), code, {"data_run_id": "a"})
    assert key != cache_key("retrain", params, code, {"data_run_id": "b"})
    assert key != cache_key("evaluate", params, code, {"data_run_id": "a"})
    assert key != cache_key("retrain", params, type(code)(code.git_commit, "0" * 64), {"data_run_id": "a"})

    # An uncommitted edit of a code file changes the content hash (a copy of the project, edited).
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns(".git", "mlruns", "*.db", ".venv", "tests",
                                                                      "__pycache__", "bench"))
    before = code_version(copy).content_hash
    anchors = copy / "edgetpu_detector/ssd/anchors.py"
    anchors.write_text(anchors.read_text() + "\n# edited\n")
    edited = code_version(copy).content_hash
    assert edited != before
    (copy / "edgetpu_detector/__pycache__").mkdir(exist_ok=True)
    (copy / "edgetpu_detector/__pycache__/x.pyc").write_bytes(b"\0")  # byte code is not code
    assert code_version(copy).content_hash == edited

    # Editing one label of a dataset changes its fingerprint; touching or copying it does not.
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.xml").write_text("<annotation><object><name>cat</name></object></annotation>")
    (data / "a.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    declared = entry_point_parameters(PROJECT_DIR, "preprocess")
    first = input_fingerprints({"data_dir": str(data)}, declared)["data_dir"]
    shutil.copytree(data, tmp_path / "elsewhere")
    (tmp_path / "elsewhere/.DS_Store").write_bytes(b"finder")
    assert content_fingerprint(tmp_path / "elsewhere") == first
    (data / "a.xml").write_text("<annotation><object><name>dog</name></object></annotation>")
    assert input_fingerprints({"data_dir": str(data)}, declared)["data_dir"] != first
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        content_fingerprint(tmp_path / "missing")


def test_force_rerun_parsing():
    assert parse_force_rerun("false", STEPS) == frozenset()
    assert parse_force_rerun("True", STEPS) == frozenset(STEPS)
    assert parse_force_rerun("convert, retrain", STEPS) == {"convert", "retrain"}
    with pytest.raises(ValueError, match=r"unknown step\(s\) \['train'\]"):
        parse_force_rerun("train", STEPS)


def test_only_finished_runs_with_the_same_key_are_reused(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("cache", artifact_location=(tmp_path / "artifacts").as_uri())
    runs = {}
    for status in ("FINISHED", "FAILED", "KILLED", "RUNNING"):
        run = client.create_run(experiment, tags={CACHE_KEY_TAG: f"key-{status}"})
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status)
        runs[status] = run.info.run_id
    newer = client.create_run(experiment, tags={CACHE_KEY_TAG: "key-FINISHED"})
    client.set_terminated(newer.info.run_id, "FINISHED")
    assert find_reusable_run(client, experiment, "key-FINISHED").info.run_id == newer.info.run_id
    for status in ("FAILED", "KILLED", "RUNNING"):
        assert find_reusable_run(client, experiment, f"key-{status}") is None
    client.delete_run(newer.info.run_id)
    assert find_reusable_run(client, experiment, "key-FINISHED").info.run_id == runs["FINISHED"]


def test_killed_step_is_recorded_as_failed_with_its_log(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("fail", artifact_location=(tmp_path / "artifacts").as_uri())
    run_id = client.create_run(experiment).info.run_id
    log = tmp_path / "retrain.log"
    log.write_text("retrain: step 10\n")
    error = record_step_failure(client, run_id, "retrain", log)
    assert error.startswith("retrain step killed or crashed before it could record an error")
    run = client.get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == error and run.data.tags["error_type"] == "Killed"
    assert [f.path for f in client.list_artifacts(run_id, "logs")] == ["logs/retrain.log"]
    # A step that recorded its own error keeps it.
    other = client.create_run(experiment).info.run_id
    client.set_tag(other, "error", "ValueError: bad label map")
    assert record_step_failure(client, other, "preprocess", None) == "ValueError: bad label map"
    assert error_tags(SystemExit("retrain: unknown augmentations")) == {
        "error": "SystemExit: retrain: unknown augmentations", "error_type": "SystemExit"}


def test_credentials_are_masked(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "abc")  # too short to mask safely: left alone
    assert secret_values() == ["hunter2-secret"]
    assert redact("login with hunter2-secret failed") == "login with *** failed"
    assert redact("GET https://bob:pa55@host:5000/api") == "GET https://***@host:5000/api"
    assert redact_uri("http://bob:pa55@mlflow.example.com:5000/path") == "http://***@mlflow.example.com:5000/path"
    assert redact_uri("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    assert error_tags(RuntimeError("401 for hunter2-secret"))["error"] == "RuntimeError: 401 for ***"

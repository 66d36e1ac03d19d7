"""The whole chain, as a user runs it: ``./run.sh -P data_dir=...`` on real LabelImg data, against a real
MLflow tracking server.

The module starts ``mlflow server`` on 127.0.0.1 (SQLite backend, local artifact root served with
``--serve-artifacts``, MLflow's basic-auth app) and runs preprocess -> retrain -> convert -> evaluate through
the driver on ``../shared/datasets/fruit_nuts`` with a small input size and few steps, authenticating through
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``. The first run has its training process killed
with SIGKILL after its first checkpoint; the second run, the same command, reuses preprocess from the cache,
resumes training from that checkpoint and runs what follows; the third, with the same settings spelled
differently, reuses every step. The tests then check the runs, the artifacts, the models, the
registry and that the password appears nowhere.
"""
import edgetpu_detector.core.env  # noqa: F401

from dataclasses import dataclass
import os
from pathlib import Path
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from ai_edge_litert.interpreter import Interpreter
import mlflow
from mlflow.tracking import MlflowClient
import numpy as np
from PIL import Image
import pytest

from edgetpu_detector.data.label_map import read_label_map
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.tflite.info import tflite_ops
from edgetpu_detector.training.augment import DEFAULT_AUGMENTATIONS

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[2]
STEPS = ("preprocess", "retrain", "convert", "evaluate")
# Ops an int8 Edge TPU model may hold besides the int8 builtins: the uint8 -> int8 input QUANTIZE and the
# DEQUANTIZE ops that feed the float post-processing custom op.
INT8_TYPES = {"int8", "int32"}
USER = "e2e-admin"
PASSWORD = "e2e-" + secrets.token_hex(12)
MODEL_NAME = "fruit-detector"
KILLED_ERROR = ("retrain step killed or crashed before it could record an error (a signal such as SIGKILL, the "
                "out-of-memory killer, or a crash in native code)")
PARAMS = ["-P", "image_size=128", "-P", "num_steps=30", "-P", "batch_size=4", "-P", "num_calibration_images=8",
          "-P", "learning_rate=0.002", "-P", "score_threshold=0.01", "-P", "checkpoint_every=10"]
# The third run: the same settings spelled differently (floats, an exponent, the default set reordered).
RESPELLED = ["-P", "image_size=128.0", "-P", "num_steps=30.0", "-P", "batch_size=4", "-P",
             "num_calibration_images=8.0", "-P", "learning_rate=2e-3", "-P", "score_threshold=0.010", "-P",
             "checkpoint_every=10", "-P", "augmentations=" + ",".join(reversed(DEFAULT_AUGMENTATIONS))]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


@dataclass
class Server:
    uri: str
    root: Path  # its SQLite stores and artifact root (``artifacts/``)


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    """``mlflow server`` with basic auth on a free port: yields a Server."""
    tmp = tmp_path_factory.mktemp("server")
    (tmp / "auth.ini").write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{tmp / 'auth.db'}\nadmin_username = {USER}\nadmin_password = {PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    port = _free_port()
    env = {**os.environ, "MLFLOW_AUTH_CONFIG_PATH": str(tmp / "auth.ini"),
           "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16)}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
                             "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
                             "--artifacts-destination", str(tmp / "artifacts"), "--serve-artifacts",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        uri = f"http://127.0.0.1:{port}"
        assert _wait_for(f"{uri}/health", 180, proc), (tmp / "server.log").read_text()[-3000:]
        yield Server(uri, tmp)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _python_processes(*needles):
    """PIDs of python processes whose command line holds every needle (bytes)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"python" in argv[0] and all(any(n in a for a in argv) for n in needles):
            pids.append(int(cmdline.parent.name))
    return pids


@dataclass
class Pipeline:
    client: MlflowClient
    experiment_id: str
    outputs: list  # console output of the three driver runs
    returncodes: list
    killed: dict  # what the first run left: {"parent": Run, "children": {step: Run}}
    data_dir: Path
    work_dir: Path

    def parents(self):
        runs = self.client.search_runs([self.experiment_id], order_by=["attributes.start_time ASC"])
        return [r for r in runs if "mlflow.parentRunId" not in r.data.tags]

    def children(self, parent):
        runs = self.client.search_runs([self.experiment_id],
                                       filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        return {r.data.tags["mlflow.project.entryPoint"]: r for r in runs}

    def steps(self, parent):
        """``{step: Run}`` of a pipeline, reused ones included (found through the parent's tags)."""
        return {step: self.client.get_run(parent.data.tags[f"{step}_run_id"]) for step in STEPS}

    def complete(self):
        """The second (resumed, complete) pipeline: its parent run and its four step runs."""
        parent = self.parents()[1]
        return parent, self.steps(parent)


@pytest.fixture(scope="module")
def pipeline(shared_dir, tracking_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    server = tracking_server.uri
    work = tmp / "work"
    credentials = {"MLFLOW_TRACKING_URI": server, "MLFLOW_TRACKING_USERNAME": USER,
                   "MLFLOW_TRACKING_PASSWORD": PASSWORD}
    env = {**os.environ, **credentials, "MLFLOW_EXPERIMENT_NAME": "e2e", "PYTHON": sys.executable,
           "EDGETPU_DETECTOR_WORK_DIR": str(work)}
    patch = pytest.MonkeyPatch()  # the tests' own client talks to the same server
    for name, value in credentials.items():
        patch.setenv(name, value)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(server)  # explicit: an earlier module may have set the global one
    data_dir = shared_dir / "datasets/fruit_nuts/data"
    command = [str(PROJECT_DIR / "run.sh"), "-P", f"data_dir={data_dir}"]
    outputs, returncodes = [], []
    try:
        # 1. Kill the training process (SIGKILL) once it has written its first checkpoint.
        log_path = tmp / "run1.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command + PARAMS, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
            deadline, killed_pids = time.time() + 900, []
            while time.time() < deadline and proc.poll() is None and not killed_pids:
                if list(work.glob("retrain-*/output/checkpoints/checkpoint")):
                    killed_pids = _python_processes(b"steps.retrain", str(work).encode())
                    for pid in killed_pids:
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            proc.wait(timeout=300)
        outputs.append(log_path.read_text())
        returncodes.append(proc.returncode)
        assert killed_pids, f"training was never caught after a checkpoint:\n{outputs[0][-4000:]}"
        client = MlflowClient(server)
        experiment_id = client.get_experiment_by_name("e2e").experiment_id
        parent = [r for r in client.search_runs([experiment_id]) if "mlflow.parentRunId" not in r.data.tags][0]
        state = Pipeline(client, experiment_id, outputs, returncodes, {}, data_dir, work)
        state.killed = {"parent": parent, "children": state.children(parent)}
        # 2. The same command again (and register the model); 3. the same settings, respelled.
        for extra in (PARAMS + ["-P", f"register_model_name={MODEL_NAME}"],
                      RESPELLED + ["-P", f"register_model_name={MODEL_NAME}"]):
            proc = subprocess.run(command + extra, cwd=tmp, env=env, capture_output=True, text=True, timeout=1200)
            outputs.append(proc.stdout + proc.stderr)
            returncodes.append(proc.returncode)
            assert proc.returncode == 0, f"run.sh failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        yield state
    finally:
        patch.undo()
        mlflow.set_tracking_uri(previous_uri)


def test_killed_step_fails_its_run_and_the_pipeline_and_keeps_its_log(pipeline):
    assert pipeline.returncodes[0] != 0
    parent, children = pipeline.killed["parent"], pipeline.killed["children"]
    assert parent.info.status == "FAILED"
    assert parent.data.tags["failed_step"] == "retrain"
    assert parent.data.tags["error"] == f"step retrain failed: {KILLED_ERROR}"
    assert set(children) == {"preprocess", "retrain"}  # nothing ran after the failed step
    assert children["preprocess"].info.status == "FINISHED"
    retrain = children["retrain"]
    assert retrain.info.status == "FAILED"
    assert retrain.data.tags["error"] == KILLED_ERROR
    assert retrain.data.tags["error_type"] == "Killed"
    log = pipeline.client.download_artifacts(retrain.info.run_id, "logs/retrain.log")
    assert "base_weights: imported" in Path(log).read_text()
    assert f"=== retrain FAILED: {KILLED_ERROR} ===" in pipeline.outputs[0]


def test_rerun_reuses_finished_steps_and_resumes_training(pipeline):
    killed = pipeline.killed["children"]
    parent, steps = pipeline.complete()
    assert parent.info.status == "FINISHED"
    assert steps["preprocess"].info.run_id == killed["preprocess"].info.run_id
    assert f"=== preprocess: reused run {killed['preprocess'].info.run_id}" in pipeline.outputs[1]
    assert "retrain: resuming from" in pipeline.outputs[1]
    resumed_at = int(pipeline.outputs[1].split("retrain: resuming from")[1].split("(step ")[1].split(")")[0])
    assert 10 <= resumed_at < 30
    assert steps["retrain"].info.run_id != killed["retrain"].info.run_id
    history = pipeline.client.get_metric_history(steps["retrain"].info.run_id, "train/loss")
    assert min(m.step for m in history) > resumed_at and max(m.step for m in history) == 30
    assert parent.data.tags["reused_steps"] == "preprocess"
    assert not list(pipeline.work_dir.glob("retrain-*"))  # a finished step's work folder is removed


def test_same_settings_spelled_differently_reuse_the_cache(pipeline):
    _, second = pipeline.complete()
    third_parent = pipeline.parents()[2]
    third = pipeline.steps(third_parent)
    assert third_parent.info.status == "FINISHED"
    for step in STEPS:
        assert third[step].info.run_id == second[step].info.run_id
        assert f"=== {step}: reused run {second[step].info.run_id}" in pipeline.outputs[2]
    assert not pipeline.children(third_parent)  # nothing ran
    assert third_parent.data.tags["reused_steps"] == "preprocess,retrain,convert,evaluate"
    assert third_parent.data.params["num_steps"] == "30.0"  # the parent keeps what the user typed
    assert third_parent.data.metrics["eval/mAP"] == pipeline.complete()[0].data.metrics["eval/mAP"]
    assert "steps reused from earlier runs: preprocess, retrain, convert, evaluate" in pipeline.outputs[2]


def test_parent_and_four_child_runs_finished(pipeline):
    output = pipeline.outputs[1]
    parent, children = pipeline.complete()
    assert parent.info.status == "FINISHED"
    assert set(pipeline.children(parent)) == {"retrain", "convert", "evaluate"}  # preprocess was reused
    assert all(run.info.status == "FINISHED" for run in children.values())
    assert parent.data.params["data_dir"].endswith("fruit_nuts/data")
    assert parent.data.params["num_steps"] == "30"
    assert "Edge TPU-ready model:" in output
    assert "edgetpu_compiler not found" in output  # the compiler is not installable here: said in one line


def test_steps_log_their_params_metrics_and_artifacts(pipeline):
    client = pipeline.client
    parent, children = pipeline.complete()
    pre, train, convert, evaluate = (children[s] for s in STEPS)
    assert pre.data.metrics["data/train_images"] == 16 and pre.data.metrics["data/test_images"] == 2
    assert pre.data.metrics["data/train_boxes"] + pre.data.metrics["data/test_boxes"] == 164
    assert train.data.params["image_size"] == "128"
    history = client.get_metric_history(train.info.run_id, "train/loss")
    assert [m.step for m in history][-1] == 30 and all(np.isfinite(m.value) for m in history)
    metrics = evaluate.data.metrics
    assert 0.0 <= metrics["eval/mAP"] <= metrics["eval/AP50"] <= 1.0
    # Every exported form evaluated on the same pixels; the headline is the deployed int8 model's.
    for form in ("keras", "saved_model", "float_tflite", "int8_tflite"):
        assert 0.0 <= metrics[f"eval/{form}/mAP"] <= 1.0 and metrics[f"eval/{form}/ms_per_image"] > 0
    assert metrics["eval/saved_model/mAP"] == pytest.approx(metrics["eval/keras/mAP"], abs=1e-6)
    assert metrics["eval/mAP"] == metrics["eval/int8_tflite/mAP"]
    assert metrics["eval/int8_ap_drop"] == pytest.approx(
        100 * (metrics["eval/float_tflite/mAP"] - metrics["eval/int8_tflite/mAP"]), abs=1e-6)
    assert metrics["eval/keras_gap"] == pytest.approx(
        100 * (metrics["eval/keras/mAP"] - metrics["eval/int8_tflite/mAP"]), abs=1e-6)
    assert evaluate.data.tags["convert_run_id"] == convert.info.run_id
    assert {"eval/AP/date", "eval/AP/fig", "eval/AP/hazelnut", "eval/AR100"} <= set(metrics)
    assert "eval/mAP" in parent.data.metrics
    assert convert.data.tags["edgetpu_compiler"] == "compiler_absent"
    assert parent.data.tags["edgetpu_compiler"] == "compiler_absent"

    def listing(run, path):
        return {Path(f.path).name for f in client.list_artifacts(run.info.run_id, path)}

    assert {"label_map.pbtxt", "train.record", "test.record", "train_labels.csv", "test_labels.csv"} \
        <= listing(pre, "data")
    assert {"detector.json", "model.weights.h5", "checkpoints"} <= listing(train, "model")
    assert listing(train, "tensorboard")
    assert {"metrics.json", "test_detections.png", "pr_curves.png", "confusion_matrix.png", "score_histogram.png",
            "coco_summary_keras.txt", "coco_summary_int8_tflite.txt"} <= listing(evaluate, "evaluation")
    exported = listing(convert, "export")
    assert {"saved_model", "frozen_inference_graph.pb", "model_float.tflite", "model_int8.tflite",
            "labels.txt", "deployment.json", "frigate"} <= exported
    assert listing(convert, "export/frigate") == {"labelmap.txt", "config.yml"}
    assert not any(name.endswith("_edgetpu.tflite") for name in exported)  # never a fake compiled model


def test_int8_model_is_edgetpu_ready_and_detects(pipeline, tmp_path):
    client, data_dir = pipeline.client, pipeline.data_dir
    _, children = pipeline.complete()
    convert_id = children["convert"].info.run_id
    model_path = Path(client.download_artifacts(convert_id, "export/model_int8.tflite", str(tmp_path)))
    labels = Path(client.download_artifacts(convert_id, "export/labels.txt", str(tmp_path))).read_text().split()
    label_map = read_label_map(client.download_artifacts(children["preprocess"].info.run_id,
                                                         "data/label_map.pbtxt", str(tmp_path)))
    assert labels == [name for name, _ in sorted(label_map.items(), key=lambda kv: kv[1])]

    interpreter = Interpreter(model_path=str(model_path))
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    assert inp["dtype"] == np.uint8 and list(inp["shape"]) == [1, 128, 128, 3]
    outputs = interpreter.get_output_details()
    assert [o["dtype"] for o in outputs] == [np.float32] * 4

    ops = tflite_ops(model_path)
    assert ops[-1].name == "TFLite_Detection_PostProcess" and ops[-1].custom
    for op in ops[:-1]:
        assert not op.custom, op
        if op.name == "QUANTIZE":
            assert op.input_types == ("uint8",) and op.output_types == ("int8",), op
        elif op.name == "DEQUANTIZE":
            assert op.input_types == ("int8",) and op.output_types == ("float32",), op
        else:
            assert set(op.input_types) | set(op.output_types) <= INT8_TYPES, op

    detector = TFLiteDetector(model_path)
    image = np.asarray(Image.open(data_dir / "images/test/10.jpg").convert("RGB"))
    # TFLite_Detection_PostProcess decodes boxes without clipping them (as in the TF OD API's and Coral's own
    # SSD models), so the raw output may stick out of the image; our runner clips them to [0, 1].
    raw = detector.detect(image, clip_boxes=False)
    assert len(raw) == detector.max_detections  # every slot is a real detection (the op's threshold is 0)
    assert np.all(np.isfinite(raw.boxes))
    ymin, xmin, ymax, xmax = raw.boxes.T
    assert np.all((ymin < ymax) & (xmin < xmax) & (ymin < 1) & (xmin < 1) & (ymax > 0) & (xmax > 0))
    detections = detector.detect(image)
    assert len(detections) == len(raw)
    assert np.all(detections.boxes >= 0.0) and np.all(detections.boxes <= 1.0)
    np.testing.assert_array_equal(detections.boxes, np.clip(raw.boxes, 0.0, 1.0))
    assert np.all((detections.classes >= 1) & (detections.classes <= len(label_map)))


# No half-built ai_edge_litert Delegate left behind (its __del__ raised) when libedgetpu.so.1 is absent.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_predict_on_a_folder_and_a_video(pipeline, tmp_path):
    """The predict CLI on the convert run's int8 model (by MLflow URI), and the library on a video."""
    import av

    from edgetpu_detector.inference.predict import predict

    client, data_dir = pipeline.client, pipeline.data_dir
    _, children = pipeline.complete()
    convert_id = children["convert"].info.run_id
    env = {**os.environ, "MLFLOW_TRACKING_URI": client.tracking_uri}
    images = data_dir / "images/test"
    proc = subprocess.run([sys.executable, "-m", "steps.predict", "--model-uri",
                           f"runs:/{convert_id}/export/model_int8.tflite", "--input", str(images),
                           "--output-dir", str(tmp_path / "out"), "--score-threshold", "0.0"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = (tmp_path / "out/frames.csv").read_text().splitlines()
    assert frames[0] == "source,frame,width,height,num_detections,latency_ms"
    assert sorted(line.split(",")[0] for line in frames[1:]) == ["10.jpg", "15.jpg"]
    assert all(float(line.split(",")[-1]) > 0 for line in frames[1:])
    rows = (tmp_path / "out/detections.csv").read_text().splitlines()
    assert len(rows) - 1 == sum(int(line.split(",")[4]) for line in frames[1:]) > 0
    assert {row.split(",")[3] for row in rows[1:]} <= {"date", "fig", "hazelnut"}  # names from labels.txt
    assert sorted(p.name for p in (tmp_path / "out/images").iterdir()) == ["10.jpg", "15.jpg"]

    # A 6-frame video made from a test photo; the Edge TPU is asked for but absent: said in one line.
    model = Path(client.download_artifacts(convert_id, "export", str(tmp_path)))
    video = tmp_path / "clip.mp4"
    frame = np.asarray(Image.open(images / "10.jpg").convert("RGB").resize((320, 240)))
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(6):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    result = predict(model / "model_int8.tflite", video, tmp_path / "video", output_format="json", device="edgetpu",
                     score_threshold=0.0, progress=False)
    assert result.kind == "tflite_cpu"
    assert result.notice == ("Edge TPU runtime (libedgetpu.so.1) not found or no Edge TPU attached: "
                             "running model_int8.tflite on the CPU")
    assert result.num_frames == 6 and len(result.pictures) == 6
    import json
    per_frame = json.loads(result.detections_path.read_text())
    assert [f["frame"] for f in per_frame] == list(range(6))
    assert all(d["class_name"] in {"date", "fig", "hazelnut"} for f in per_frame for d in f["detections"])

    # The SavedModel gives label-map ids directly, the TFLite model 0-based ones: both end up as names.
    saved = predict(model / "saved_model", images, tmp_path / "saved", score_threshold=0.0, progress=False)
    assert saved.kind == "saved_model" and saved.num_frames == 2 and saved.num_detections > 0


def test_ui_compares_pipelines_by_their_edgetpu_model(pipeline):
    """One namespace per step in metric names; every setting, the base model, the dataset fingerprint and
    the Edge TPU status on the parent run; the dataset as an MLflow input of the steps that read it."""
    import re

    client = pipeline.client
    parent, steps = pipeline.complete()
    allowed = re.compile(r"^(data|train|val|eval|convert|edgetpu_compat)/[A-Za-z0-9_./ -]+$")
    for run in client.search_runs([pipeline.experiment_id]):
        assert all(allowed.match(key) for key in run.data.metrics), run.data.metrics.keys()
    assert {"model", "num_steps", "image_size", "learning_rate", "base_weights", "score_threshold",
            "force_rerun", "register_model_name"} <= set(parent.data.params)
    fingerprint = steps["preprocess"].data.tags["dataset_fingerprint"]
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)
    tags = parent.data.tags
    assert tags["dataset_fingerprint"] == fingerprint and tags["base_model"] == "ssdlite_mobilenet_v2"
    assert tags["edgetpu_compiler"] == "compiler_absent"
    assert tags["edgetpu_compat_verdict"] == steps["convert"].data.tags["edgetpu_compat_verdict"]
    assert tags["base_weights_kind"] == steps["retrain"].data.tags["base_weights_kind"]
    assert parent.data.metrics["eval/mAP"] == steps["evaluate"].data.metrics["eval/int8_tflite/mAP"]
    assert parent.data.metrics["edgetpu_compat/ops_mapped"] > 0
    assert "eval/mAP" in tags["mlflow.note.content"] and "deployed int8 model" in tags["mlflow.note.content"]
    for step, context in (("retrain", "training"), ("convert", "calibration"), ("evaluate", "evaluation")):
        (dataset_input,) = steps[step].inputs.dataset_inputs
        assert dataset_input.dataset.digest == fingerprint and dataset_input.dataset.name == "fruit_nuts/data"
        assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == context
    assert all(steps[s].data.tags["mlflow.runName"] == s for s in STEPS)


def test_registered_edgetpu_model_serves_detections_through_the_server(pipeline):
    """The registry holds one version (the third run reused the convert run: no duplicate), tagged with
    the Edge TPU status, and loads through the tracking server as a pyfunc that detects on a real photo."""
    import mlflow.pyfunc
    import pandas as pd

    client = pipeline.client
    parent, steps = pipeline.complete()
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    assert len(versions) == 1
    version = versions[0]
    assert version.run_id == steps["convert"].info.run_id
    assert version.tags["edgetpu_compiler"] == "compiler_absent"
    assert version.tags["edgetpu_compat_verdict"] == steps["convert"].data.tags["edgetpu_compat_verdict"]
    assert float(version.tags["eval/int8_tflite/mAP"]) == pytest.approx(parent.data.metrics["eval/int8_tflite/mAP"],
                                                                         abs=1e-4)
    assert pipeline.parents()[2].data.tags["registered_model"] == f"{MODEL_NAME}/{version.version}"
    assert "already registered for this convert run" in pipeline.outputs[2]

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version.version}")
    photo = pipeline.data_dir / "images/test/10.jpg"
    detections = model.predict(pd.DataFrame({"image": [photo.read_bytes()]}), params={"score_threshold": 0.0})
    expected = TFLiteDetector(
        Path(client.download_artifacts(steps["convert"].info.run_id, "export/model_int8.tflite"))).detect(
        np.asarray(Image.open(photo).convert("RGB")))
    assert len(detections) == len(expected) > 0
    np.testing.assert_allclose(detections[["ymin", "xmin", "ymax", "xmax"]].to_numpy(), expected.boxes, atol=1e-6)
    np.testing.assert_allclose(detections["score"].to_numpy(), expected.scores, atol=1e-6)
    assert set(detections["label"]) <= {"date", "fig", "hazelnut"}


def test_credentials_appear_nowhere(pipeline, tracking_server):
    """The password reached the server (basic auth is on: without it the server refuses), yet it is in no
    console output, param, tag, metric name, step log or artifact of any run, nor in any logged model: no file
    of the server's tracking store or artifact root holds it (all the server serves comes from there)."""
    client = pipeline.client
    request = urllib.request.Request(f"{client.tracking_uri}/api/2.0/mlflow/experiments/search?max_results=1")
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(request, timeout=10)
    secret = PASSWORD.encode()
    assert all(PASSWORD not in output for output in pipeline.outputs)
    runs = client.search_runs([pipeline.experiment_id])
    assert len(runs) == 8  # 3 parents; preprocess + killed retrain; retrain, convert, evaluate
    for run in runs:
        text = " ".join([*run.data.params.values(), *run.data.tags.values(), *run.data.metrics])
        assert PASSWORD not in text, run.info.run_id
    assert client.search_logged_models([pipeline.experiment_id])
    # (auth.ini, the server's own configuration, holds the password: it is not served)
    store = [*tracking_server.root.glob("mlflow.db*"), *(tracking_server.root / "artifacts").rglob("*")]
    scanned = [path for path in store if path.is_file()]
    assert len(scanned) > 50 and any(p.suffix == ".tflite" for p in scanned)
    for path in scanned:
        assert secret not in path.read_bytes(), path

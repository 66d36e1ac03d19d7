"""Tests of edgetpu_detector.mlflow_models: the exported detector as MLflow models, on a real fruit_nuts photo.

A small random detector (128 x 128, alpha 0.35, ``detector_helpers.random_detector``) is converted to int8
TFLite (calibrated on 4 real training photos) and exported as a SavedModel, as the convert step does; both
are logged to a throw-away SQLite tracking store. The served results must equal the exported models' own:
the model's own outputs for the pyfunc TFLite model (in process and over REST through ``mlflow models
serve``), the ``serving_default`` signature for the ``tensorflow`` flavor's ``tf.Module``.
"""
import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow)

import base64
import io
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import mlflow
from mlflow.pyfunc import PythonModelContext
import numpy as np
import pandas as pd
from PIL import Image, ImageOps
import pytest
import tensorflow as tf

from edgetpu_detector.data.formats.voc_xml import parse_voc_xml
from edgetpu_detector.data.label_map import make_label_map, read_labels_txt, write_labels_txt
from edgetpu_detector.export.saved_model import SERVING_INPUT, export_saved_model
from edgetpu_detector.export.serving_fn import DETECTION_KEYS
from edgetpu_detector.export.tflite_converter import convert_int8_tflite
from edgetpu_detector.inference.tflite_detector import TFLiteDetector
from edgetpu_detector.mlflow_models.log_saved_model import log_saved_model
from edgetpu_detector.mlflow_models.log_tflite import log_tflite_model
from edgetpu_detector.mlflow_models.tflite_pyfunc import DETECTION_COLUMNS, TFLiteDetectorModel
from edgetpu_detector.ssd.postprocess import NMSConfig
from tests.detector_helpers import random_detector

SIZE = 128
NMS = NMSConfig(nms_score_threshold=0.1, iou_threshold=0.6, max_detections=10, max_detections_per_class=10)
SCORE_THRESHOLD = 0.3  # the served default, above the model's own 0.1
TFLITE_NAME = "detector_tflite"
SAVED_MODEL_NAME = "detector_saved_model"
SERVE_TIMEOUT_S = 120


def _read_rgb(path):
    """The decoding the served model must match: Pillow, EXIF orientation applied, RGB."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


@pytest.fixture(scope="module")
def fruit_nuts(shared_dir):
    root = shared_dir / "datasets" / "fruit_nuts" / "data" / "images"
    if not root.is_dir():
        pytest.skip(f"fruit_nuts not found under {root}")
    return root


@pytest.fixture(scope="module")
def photos(fruit_nuts):
    """Two real test photos (same size, 800 x 600): paths, bytes and decoded pixels."""
    paths = [fruit_nuts / "test" / "10.jpg", fruit_nuts / "test" / "15.jpg"]
    return [{"path": p, "bytes": p.read_bytes(), "pixels": _read_rgb(p)} for p in paths]


@pytest.fixture(scope="module")
def exported(fruit_nuts, tmp_path_factory):
    """A small detector, its int8 TFLite (as the convert step writes it) and labels.txt of the real classes."""
    model, config = random_detector(SIZE, 3)
    root = tmp_path_factory.mktemp("export")
    names = sorted({obj.name for xml in (fruit_nuts / "train").glob("*.xml") for obj in parse_voc_xml(xml).objects})
    assert len(names) == config.num_classes
    calibration = [_read_rgb(p) for p in sorted((fruit_nuts / "train").glob("*.jpg"))[:4]]
    return {
        "model": model, "config": config,
        "int8": convert_int8_tflite(model, config, calibration, root / "model_int8.tflite", nms=NMS),
        "labels": write_labels_txt(make_label_map(names), root / "labels.txt"),
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A throw-away SQLite tracking store with a file artifact location; the experiment id."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment_id = mlflow.create_experiment("serving", artifact_location=(root / "artifacts").as_uri())
        yield {"uri": uri, "experiment_id": experiment_id}
    finally:
        mlflow.set_tracking_uri(previous)


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


@pytest.fixture(scope="module")
def tflite_logged(exported, photos, store):
    with mlflow.start_run(experiment_id=store["experiment_id"]) as run:
        mlflow.log_param("max_detections", "auto")  # as the convert step's run has it
        info, seconds = _timed(log_tflite_model, exported["int8"], exported["labels"], TFLITE_NAME, photos[0]["bytes"],
                               score_threshold=SCORE_THRESHOLD)
    print(f"log_tflite_model: {seconds:.2f} s")
    return {"run_id": run.info.run_id, "info": info, "uri": f"runs:/{run.info.run_id}/{TFLITE_NAME}"}


@pytest.fixture(scope="module")
def tflite_pyfunc(tflite_logged):
    return mlflow.pyfunc.load_model(tflite_logged["uri"])


def _expected_rows(int8_path, labels_path, images, threshold, limit=None):
    """The model's raw output slots on each image as the served rows (class index i is label-map id i + 1 and
    line i of labels.txt; boxes clipped): the pyfunc's contract, computed independently of it."""
    labels = Path(labels_path).read_text(encoding="utf-8").splitlines()
    detector = TFLiteDetector(int8_path)
    rows = []
    for index, image in enumerate(images):
        result = detector.outputs(image)
        kept = [i for i in range(result["count"]) if result["scores"][i] >= threshold][:limit]
        for i in kept:
            box = np.clip(result["boxes"][i], 0.0, 1.0)
            rows.append({"image_index": index, "class_id": int(result["classes"][i]) + 1,
                         "label": labels[int(result["classes"][i])], "score": float(result["scores"][i]),
                         **dict(zip(("ymin", "xmin", "ymax", "xmax"), (float(v) for v in box)))})
    return rows


# ---------------------------------------------------------------- pyfunc TFLite


def test_tflite_serving_code_does_not_import_tensorflow():
    code = ("import sys, edgetpu_detector.inference.tflite_detector, edgetpu_detector.mlflow_models.tflite_pyfunc\n"
            "import edgetpu_detector.inference.load, edgetpu_detector.tflite.edgetpu_compat\n"
            "assert 'tensorflow' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m)[:5]")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_tflite_pyfunc_matches_the_model_outputs(exported, photos, tflite_logged, tflite_pyfunc):
    info = tflite_logged["info"]
    assert [(c.name, c.type.name) for c in info.signature.inputs.inputs] == [("image", "binary")]
    assert [c.name for c in info.signature.outputs.inputs] == list(DETECTION_COLUMNS)
    assert info.signature.params.to_dict() == [
        {"name": "score_threshold", "type": "double", "default": SCORE_THRESHOLD, "shape": None},
        {"name": "max_detections", "type": "long", "default": NMS.max_detections, "shape": None}]
    # MLflow logs the model's config as run params: beside the run's own max_detections=auto, not over it
    params = mlflow.tracking.MlflowClient().get_run(tflite_logged["run_id"]).data.params
    assert params["max_detections"] == "auto"
    assert params["serving/max_detections"] == str(NMS.max_detections)
    assert params["serving/score_threshold"] == str(SCORE_THRESHOLD)
    local = Path(mlflow.artifacts.download_artifacts(tflite_logged["uri"]))
    assert (local / "code" / "edgetpu_detector" / "mlflow_models" / "tflite_pyfunc.py").is_file()  # code travels
    requirements = (local / "requirements.txt").read_text().split()
    assert "ai-edge-litert==2.3.0" in requirements and not any(r.startswith("tensorflow") for r in requirements)

    out = tflite_pyfunc.predict(pd.DataFrame({"image": [photos[0]["bytes"], photos[1]["bytes"]]}))
    assert list(out.columns) == list(DETECTION_COLUMNS)
    assert {k: str(v) for k, v in out.dtypes.items()} == DETECTION_COLUMNS
    expected = _expected_rows(exported["int8"], exported["labels"], [p["pixels"] for p in photos], SCORE_THRESHOLD)
    assert 0 < len(expected) < 2 * NMS.max_detections  # the threshold keeps some detections and drops others
    assert out.to_dict("records") == expected
    assert set(out["label"]) <= set(read_labels_txt(exported["labels"]).values())
    assert out[["ymin", "xmin", "ymax", "xmax"]].to_numpy().min() >= 0
    assert out[["ymin", "xmin", "ymax", "xmax"]].to_numpy().max() <= 1

    # params: everything the model returns, or the best 3 above 0.4
    image = pd.DataFrame({"image": [photos[0]["bytes"]]})
    out = tflite_pyfunc.predict(image, params={"score_threshold": 0.0, "max_detections": 100})
    assert out.to_dict("records") == _expected_rows(exported["int8"], exported["labels"], [photos[0]["pixels"]], 0.0)
    assert len(out) == NMS.max_detections
    out = tflite_pyfunc.predict(image, params={"score_threshold": 0.4, "max_detections": 3})
    assert out.to_dict("records") == _expected_rows(exported["int8"], exported["labels"], [photos[0]["pixels"]],
                                                    0.4, limit=3)
    out = tflite_pyfunc.predict(image, params={"score_threshold": 1.01})
    assert out.empty and list(out.columns) == list(DETECTION_COLUMNS)


def test_tflite_pyfunc_rejects_bad_images_clearly(photos, tflite_pyfunc):
    good, truncated = photos[0]["bytes"], photos[0]["bytes"][:2000]
    with pytest.raises(ValueError, match=r"row 1: not a decodable image \(12 bytes\)"):
        tflite_pyfunc.predict(pd.DataFrame({"image": [good, b"not an image"]}))
    with pytest.raises(ValueError, match=r"row 0: not a decodable image \(2000 bytes\).*truncated"):
        tflite_pyfunc.predict(pd.DataFrame({"image": [truncated]}))
    with pytest.raises(ValueError, match="row 0: empty image bytes"):
        tflite_pyfunc.predict(pd.DataFrame({"image": [b""]}))
    with pytest.raises(ValueError, match=r"row 0: expected the encoded image as bytes, got str \(base64 text"):
        tflite_pyfunc.predict(pd.DataFrame({"image": [base64.b64encode(good).decode()]}))
    # A PNG of the same pixels is served like the JPEG's decoded pixels.
    png = io.BytesIO()
    Image.fromarray(photos[0]["pixels"]).save(png, format="PNG")
    out_png = tflite_pyfunc.predict(pd.DataFrame({"image": [png.getvalue()]}))
    out_jpeg = tflite_pyfunc.predict(pd.DataFrame({"image": [good]}))
    pd.testing.assert_frame_equal(out_png, out_jpeg)


# No half-built ai_edge_litert Delegate left behind (its __del__ raised) when libedgetpu.so.1 is absent.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_tflite_pyfunc_refuses_requests_above_its_limits(photos, tflite_pyfunc):
    """Too many images, no image, too many pixels: InvalidRequest (HTTP 400 when served), before decoding."""
    from mlflow.exceptions import MlflowException

    from edgetpu_detector.mlflow_models.tflite_pyfunc import MAX_IMAGES_PER_REQUEST, SERVING_MAX_PIXELS

    tiny = io.BytesIO()
    Image.new("RGB", (32, 32)).save(tiny, format="JPEG")
    many = [tiny.getvalue()] * (MAX_IMAGES_PER_REQUEST + 1)
    with pytest.raises(ValueError, match=f"{len(many)} images in one request; at most {MAX_IMAGES_PER_REQUEST}") \
            as refused:
        tflite_pyfunc.predict(pd.DataFrame({"image": many}))
    assert isinstance(refused.value, MlflowException) and refused.value.get_http_status_code() == 400
    with pytest.raises(ValueError, match="the request holds no image"):  # (MLflow's schema check refuses it first)
        tflite_pyfunc.unwrap_python_model().predict(None, pd.DataFrame({"image": pd.Series([], dtype=object)}))
    side = int(SERVING_MAX_PIXELS ** 0.5) + 1  # just above the limit; the header alone is read
    big = io.BytesIO()
    Image.new("L", (side, side), 0).save(big, format="JPEG")
    with pytest.raises(ValueError, match=rf"row 0: image is {side}x{side} = {side * side} pixels, above the limit"):
        tflite_pyfunc.predict(pd.DataFrame({"image": [big.getvalue()]}))


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # no half-built Delegate
def test_edgetpu_model_without_runtime_falls_back_to_cpu_model(exported, photos, tmp_path, capsys):
    from edgetpu_detector.tflite.interpreter import edgetpu_runtime_available

    if edgetpu_runtime_available():
        pytest.skip("an Edge TPU is attached: the compiled model would run on it")
    # A file named like a compiled model (the int8 model; no edgetpu_compiler here) and its CPU fallback.
    compiled = tmp_path / "model_int8_edgetpu.tflite"
    compiled.write_bytes(Path(exported["int8"]).read_bytes())
    model = TFLiteDetectorModel(score_threshold=0.0)
    model.load_context(PythonModelContext(artifacts={"model": str(compiled), "labels": str(exported["labels"]),
                                                     "cpu_model": str(exported["int8"])}, model_config={}))
    line = capsys.readouterr().out.strip()
    assert model.device == "cpu" and line.count("\n") == 0
    assert "Edge TPU runtime (libedgetpu.so.1) not found" in line and "running model_int8.tflite on the CPU" in line
    out = model.predict(None, pd.DataFrame({"image": [photos[0]["bytes"]]}))
    assert out.to_dict("records") == _expected_rows(exported["int8"], exported["labels"], [photos[0]["pixels"]], 0.0)

    # Without a CPU model the compiled file itself is tried on the CPU (this one runs: nothing was compiled).
    model.load_context(PythonModelContext(artifacts={"model": str(compiled), "labels": str(exported["labels"])},
                                          model_config={"max_detections": 2}))
    line = capsys.readouterr().out.strip()
    assert model.device == "cpu" and line.endswith("running model_int8_edgetpu.tflite on the CPU")
    out = model.predict(None, pd.DataFrame({"image": [photos[0]["bytes"]]}))
    assert out.to_dict("records") == _expected_rows(exported["int8"], exported["labels"], [photos[0]["pixels"]], 0.0,
                                                    limit=2)


# ---------------------------------------------------------------- tensorflow flavor (tf.Module)


@pytest.mark.slow  # two SavedModels written, one validated and loaded by MLflow: ~35 s on 2 cores
def test_saved_model_pyfunc_matches_serving_signature(exported, photos, store, tmp_path):
    saved_model = export_saved_model(exported["model"], exported["config"], tmp_path / "saved_model", nms=NMS)
    with mlflow.start_run(experiment_id=store["experiment_id"]) as run:
        info, seconds = _timed(log_saved_model, exported["model"], exported["config"], NMS, SAVED_MODEL_NAME,
                               photos[0]["pixels"])
    print(f"log_saved_model: {seconds:.2f} s")
    spec = info.signature.inputs.inputs[0]
    assert spec.type == np.dtype(np.uint8) and spec.shape == (-1, -1, -1, 3)
    assert [o.name for o in info.signature.outputs.inputs] == list(DETECTION_KEYS)
    local = mlflow.artifacts.download_artifacts(info.model_uri)
    assert mlflow.models.Model.load(local).load_input_example(local).shape == (1, SIZE, SIZE, 3)

    served = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/{SAVED_MODEL_NAME}")
    batch = np.stack([p["pixels"] for p in photos])  # [2, 600, 800, 3]: a batch of real photos, full size
    out = {key: value.numpy() for key, value in served.predict(batch).items()}
    assert set(out) == set(DETECTION_KEYS)
    assert out["detection_boxes"].shape == (2, NMS.max_detections, 4)
    signature = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    for i, photo in enumerate(photos):
        expected = signature(**{SERVING_INPUT: tf.constant(photo["pixels"][np.newaxis])})
        assert int(out["num_detections"][i]) > 0
        for key in DETECTION_KEYS:
            np.testing.assert_allclose(out[key][i], expected[key].numpy()[0], atol=1e-5, err_msg=key)


# ---------------------------------------------------------------- REST: mlflow models serve


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url, payload):
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow  # a scoring server process: ~6-15 s to start on 2 cores
def test_rest_serving_matches_in_process(photos, store, tflite_logged, tflite_pyfunc, tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "MLFLOW_TRACKING_URI": store["uri"], "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", tflite_logged["uri"], "--env-manager",
               "local", "--host", "127.0.0.1", "--port", str(port)]
    # Outside the checkout, so that the server imports the code logged with the model, not ours.
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        started, deadline = time.perf_counter(), time.monotonic() + SERVE_TIMEOUT_S
        while True:
            assert server.poll() is None, f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no /ping answer in {SERVE_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        print(f"mlflow models serve: /ping answered after {time.perf_counter() - started:.1f} s")

        jpeg = base64.b64encode(photos[0]["bytes"]).decode("ascii")
        status, body = _post(f"http://127.0.0.1:{port}/invocations",
                             {"dataframe_split": {"columns": ["image"], "data": [[jpeg]]}})
        assert status == 200, body
        expected = tflite_pyfunc.predict(pd.DataFrame({"image": [photos[0]["bytes"]]}))
        assert len(expected) > 0
        assert body == {"predictions": expected.to_dict("records")}

        status, body = _post(f"http://127.0.0.1:{port}/invocations",
                             {"dataframe_split": {"columns": ["image"], "data": [[jpeg]]},
                              "params": {"score_threshold": 0.0, "max_detections": 2}})
        assert status == 200, body
        expected = tflite_pyfunc.predict(pd.DataFrame({"image": [photos[0]["bytes"]]}),
                                         params={"score_threshold": 0.0, "max_detections": 2})
        assert body == {"predictions": expected.to_dict("records")} and len(expected) == 2

        status, body = _post(f"http://127.0.0.1:{port}/invocations",
                             {"dataframe_split": {"columns": ["image"],
                                                  "data": [[base64.b64encode(b"not an image").decode()]]}})
        assert status == 400 and "row 0: not a decodable image (12 bytes)" in json.dumps(body)
    finally:
        _stop(server)


def _stop(server):
    """Stop the server's process group (``mlflow models serve`` and the uvicorn process it starts)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=15)
            break
        except subprocess.TimeoutExpired:
            continue
    server.wait()


@pytest.mark.slow  # a scoring server process and 40 requests: ~20-40 s on 2 cores
def test_rest_serving_under_load_and_malformed_requests(photos, store, tflite_logged, tmp_path):
    """The small version of ``bench/serve_load.py``: 2 clients, 40 requests of real JPEGs, no error; then the
    malformed requests get HTTP 400 with a clear message and the server keeps answering, its memory bounded."""
    from bench.serve_load import RssSampler, group_rss_bytes, malformed_requests, post, request_body, run_load, serve

    bodies = [request_body([photo["bytes"]]) for photo in photos]
    with serve(tflite_logged["uri"], store["uri"], tmp_path) as (url, server):
        rss_before = group_rss_bytes(server.pid)
        load = run_load(url, bodies, clients=2, requests=40)
        print(f"serve load: {load}")
        assert load["requests"] == 40 and load["errors"] == 0, load["first_error"]
        assert 0 < load["p50_ms"] <= load["p99_ms"] <= load["max_ms"]
        tiny = io.BytesIO()
        Image.fromarray(photos[0]["pixels"][:32, :32]).save(tiny, format="JPEG")
        with RssSampler(server.pid) as sampler:
            bad = malformed_requests(url, tiny.getvalue())
        print(f"malformed: {bad}; RSS {rss_before >> 20} MiB before, peak {sampler.peak >> 20} MiB")
        assert {name: answer["status"] for name, answer in bad.items()} == \
            {"not_an_image": 400, "100_megapixels": 400, "empty_body": 400, "500_images": 400}
        assert "row 0: not a decodable image (20 bytes)" in bad["not_an_image"]["message"]
        assert "row 0: image is 10000x10000 = 100000000 pixels, above the limit" in bad["100_megapixels"]["message"]
        assert "500 images in one request; at most 64" in bad["500_images"]["message"]
        assert "Ensure that input is a valid JSON formatted string" in bad["empty_body"]["message"]
        # Bounded: the 100 MP image is refused from its header (decoding it would take 300 MB), the 500-image
        # request (of 32 x 32 JPEGs here, under 1 MB of JSON) before any is decoded.
        assert sampler.peak - rss_before < 256 << 20
        assert post(f"{url}/invocations", bodies[0])[0] == 200

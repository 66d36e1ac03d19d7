"""Load test of the served model: ``mlflow models serve`` of an ``edgetpu_detector`` pyfunc on 127.0.0.1.

Measures, with ``--clients`` concurrent clients sending ``--requests`` requests in all (one real JPEG each,
cycled over ``--images``; the run stops by itself): throughput (requests/s), latency p50 / p99 / max (ms,
client side, whole HTTP round trip), the number of errors (any status but 200, or a failed connection), and
the server's resident memory (RSS of every process of its process group, sampled every 0.1 s: before, peak,
after). Then it sends the malformed requests the server must refuse with HTTP 4xx and a clear message: not
an image, a 100-megapixel image, an empty body, 500 images in one request, and records the status, the message
and the RSS afterwards.

Usage:
  python -m bench.serve_load [--model-uri URI --tracking-uri URI] [--images DIR] [--clients 8]
                             [--requests 2000] [--out bench/serve_load_results.json]

Without ``--model-uri`` it serves the default architecture (SSDLite-MobileNetV2 300 x 300, 3 classes,
untrained: latency does not depend on the weights) converted to int8 as the convert step does and logged with
``log_tflite_model`` into a throw-away store. Other processes on the machine inflate the figures: quote the
load with them. ``tests/mlflow_models/test_serving.py`` runs a small version (2 clients, 40 requests).
"""
import argparse
import base64
import contextlib
from concurrent.futures import ThreadPoolExecutor
import io
import itertools
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_IMAGES = SHARED / "datasets" / "raccoon" / "images"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_rss_bytes(pgid):
    """Resident memory (bytes) of every process of process group ``pgid`` (Linux ``/proc``)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class RssSampler:
    """Samples ``group_rss_bytes(pgid)`` every ``interval`` s in a thread; ``peak`` is the highest seen."""

    def __init__(self, pgid, interval=0.1):
        self.pgid, self.interval, self.peak = pgid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, group_rss_bytes(self.pgid))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def serve(model_uri, tracking_uri, workdir, timeout_s=180, workers=None):
    """Run ``mlflow models serve`` of ``model_uri`` on 127.0.0.1 in its own session, from ``workdir`` (outside
    the checkout, so that it runs the code logged with the model); yield ``(url, process)`` once ``/ping``
    answers; stop its process group afterwards.

    Raises:
      RuntimeError: the server exited or did not answer within ``timeout_s`` (with the end of its log).
    """
    port = free_port()
    log = Path(workdir) / "serve.log"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    if workers:
        env["MLFLOW_MODELS_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no /ping answer in {timeout_s} s:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        yield url, server
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, sig)
            try:
                server.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue


def request_body(images):
    """The ``/invocations`` JSON body (bytes) for a list of encoded images (``dataframe_split``, column
    ``image``, base64 as the scoring server expects for a binary column)."""
    rows = [[base64.b64encode(data).decode("ascii")] for data in images]
    return json.dumps({"dataframe_split": {"columns": ["image"], "data": rows}}).encode()


def post(url, body, timeout=120, content_type="application/json"):
    """POST ``body`` to ``url``; return ``(status, text of the answer)``; a failed connection is status 0."""
    request = urllib.request.Request(url, body, {"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, str(error)


def percentile(values, q):
    """The ``q``-th percentile (0..100) of ``values`` by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100), at least 1
    return ordered[int(rank) - 1]


def run_load(url, bodies, clients, requests):
    """Send ``requests`` POSTs to ``url``/invocations from ``clients`` threads, bodies cycled over ``bodies``.

    Returns:
      dict: ``requests``, ``clients``, ``seconds``, ``throughput_rps``, ``p50_ms``, ``p99_ms``, ``max_ms``,
      ``errors`` (count of non-200 answers and failed connections) and ``first_error`` (its status and
      text, or None).
    """
    counter = itertools.count()
    lock = threading.Lock()
    latencies, errors = [], []

    def client():
        while (index := next(counter)) < requests:
            started = time.perf_counter()
            status, text = post(f"{url}/invocations", bodies[index % len(bodies)])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append((status, text[:500]))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    seconds = time.perf_counter() - started
    return {"requests": len(latencies), "clients": clients, "seconds": round(seconds, 2),
            "throughput_rps": round(len(latencies) / seconds, 2),
            "p50_ms": round(1000 * percentile(latencies, 50), 1), "p99_ms": round(1000 * percentile(latencies, 99), 1),
            "max_ms": round(1000 * max(latencies), 1), "errors": len(errors),
            "first_error": errors[0] if errors else None}


def huge_jpeg(side=10_000):
    """A real ``side`` x ``side`` grayscale JPEG (100 MP by default; about 1.5 MB, 100 MB of RAM to make)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (side, side), 128).save(out, format="JPEG", quality=50)
    return out.getvalue()


def answer_message(text):
    """The ``message`` of the scoring server's JSON error answer: its last ``Error: `` line (MLflow puts the
    request's data before the model's own message), else its first line; or the text itself."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    message = parsed.get("message", text) if isinstance(parsed, dict) else text
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    errors = [line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")]
    return errors[-1] if errors else (lines[0] if lines else "")


def malformed_requests(url, jpeg, many=500):
    """Send the requests the server must refuse; return ``{name: {"status", "message"}}`` (the message cut to
    300 characters). ``jpeg``: one image, repeated ``many`` times for the too-many-images request (MLflow's
    scoring server parses a whole request before the model sees it: with real photos that request alone
    takes several hundred MB while it is parsed)."""
    cases = {
        "not_an_image": request_body([b"this is not an image"]),
        "100_megapixels": request_body([huge_jpeg()]),
        "empty_body": b"",
        f"{many}_images": request_body([jpeg] * many),
    }
    results = {}
    for name, body in cases.items():
        status, text = post(f"{url}/invocations", body)
        results[name] = {"status": status, "message": answer_message(text)[:300]}
    return results


def default_model(tracking_uri, workdir):
    """Log the default architecture (untrained, int8) as an ``edgetpu_detector`` model; return its URI."""
    import edgetpu_detector.core.env  # noqa: F401

    import mlflow
    import numpy as np

    from edgetpu_detector.data.label_map import make_label_map, write_labels_txt
    from edgetpu_detector.export.tflite_converter import convert_int8_tflite
    from edgetpu_detector.mlflow_models.log_tflite import log_tflite_model
    from edgetpu_detector.ssd.models.ssd import DetectorConfig, build_detector
    from edgetpu_detector.ssd.postprocess import NMSConfig

    config = DetectorConfig(image_size=300, num_classes=3)
    model = build_detector(config)
    rng = np.random.default_rng(0)
    calibration = [rng.integers(0, 256, (300, 300, 3), dtype=np.uint8) for _ in range(4)]
    int8 = convert_int8_tflite(model, config, calibration, Path(workdir) / "model_int8.tflite",
                               nms=NMSConfig(max_detections=10))
    labels = write_labels_txt(make_label_map(["a", "b", "c"]), Path(workdir) / "labels.txt")
    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.create_experiment("serve_load", artifact_location=(Path(workdir) / "artifacts").as_uri())
    example = next(iter(sorted(DEFAULT_IMAGES.glob("*.jpg")))).read_bytes() if DEFAULT_IMAGES.is_dir() else None
    with mlflow.start_run(experiment_id=experiment) as run:
        log_tflite_model(int8, labels, "edgetpu_detector", example)
    return f"runs:/{run.info.run_id}/edgetpu_detector"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-uri", default="")
    parser.add_argument("--tracking-uri", default="")
    parser.add_argument("--images", default=str(DEFAULT_IMAGES))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0, help="uvicorn workers (0: MLflow's default)")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    images = [p.read_bytes() for p in sorted(Path(args.images).glob("*.jpg"))]
    if not images:
        raise SystemExit(f"serve_load: no .jpg under {args.images}")
    with tempfile.TemporaryDirectory() as tmp:
        tracking_uri = args.tracking_uri or f"sqlite:///{tmp}/mlflow.db"
        model_uri = args.model_uri or default_model(tracking_uri, tmp)
        bodies = [request_body([data]) for data in images]
        with serve(model_uri, tracking_uri, tmp, workers=args.workers or None) as (url, server):
            rss_start = group_rss_bytes(server.pid)
            post(f"{url}/invocations", bodies[0])  # warm-up
            with RssSampler(server.pid) as sampler:
                load = run_load(url, bodies, args.clients, args.requests)
            rss_after_load = group_rss_bytes(server.pid)
            with RssSampler(server.pid) as bad_sampler:
                bad = malformed_requests(url, images[0])
            check_status, _ = post(f"{url}/invocations", bodies[0])
            rss_end = group_rss_bytes(server.pid)
    mib = 1 << 20
    results = {
        "model_uri": model_uri if args.model_uri else "default SSDLite-MobileNetV2 300x300 int8 (untrained)",
        "images": f"{len(images)} JPEGs from {args.images}", "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0], **load,
        "server_rss_mib": {"start": round(rss_start / mib), "peak_under_load": round(sampler.peak / mib),
                           "after_load": round(rss_after_load / mib),
                           "peak_malformed": round(bad_sampler.peak / mib), "end": round(rss_end / mib)},
        "malformed": bad, "answers_after_malformed": check_status,
    }
    print(json.dumps(results, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()

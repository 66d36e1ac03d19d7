"""A full disk during preprocess (records), retrain (checkpoints) and MLflow artifact logging: the step's run
FAILED with one line naming the path, the free space and the space needed, nothing half-written left where a
later run reads, and the same command succeeds (training resumes from its last complete checkpoint) once there
is room.

The full disk is real: a tmpfs mounted with a size limit (``mount -t tmpfs -o size=...``; the tests skip
where mounting is not permitted, i.e. not root) holds the folder being written: ``TMPDIR`` of the preprocess
step (its records are written there before logging), the retrain step's ``--output-dir`` (checkpoints), or the
experiment's artifact location. Space is freed by remounting the same tmpfs larger, as a user deleting files
would. The steps run as processes, as the driver runs them (tiny settings: 64 px, synthetic data).
"""
import contextlib
import os
from pathlib import Path
import re
import subprocess
import sys

from mlflow.tracking import MlflowClient
import pytest

from edgetpu_detector.core.disk import folder_size
from edgetpu_detector.data.synthetic import make_synthetic_dataset

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[2]
RETRAIN = ["--image-size", "64", "--batch-size", "2", "--warmup-steps", "1", "--base-weights", "none",
           "--num-steps", "4", "--checkpoint-every", "2"]
MESSAGE = re.compile(r"^DiskFull: disk full: could not write (?P<path>\S+): (?P<free>[0-9.]+) MiB free there, "
                     r"about (?P<needed>[0-9.]+) MiB needed; free space and run the same command again$")


@contextlib.contextmanager
def small_filesystem(path, size_bytes):
    """A tmpfs of ``size_bytes`` mounted at ``path`` for the block; yields a function that remounts it with
    a new size (freeing space)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes // 1024}k", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")

    def resize(new_size):
        subprocess.run(["mount", "-o", f"remount,size={new_size // 1024}k", str(path)], check=True)

    try:
        yield resize
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


class Store:
    def __init__(self, root):
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"
        self.client = MlflowClient(self.uri)
        self.experiment_id = self.client.create_experiment("disk", artifact_location=(root / "artifacts").as_uri())

    def step(self, module, args, experiment_id=None, **env):
        """Run ``python -m steps.<module>``; return (returncode, output, Run)."""
        environment = {**os.environ, "MLFLOW_TRACKING_URI": self.uri,
                       "MLFLOW_EXPERIMENT_ID": experiment_id or self.experiment_id, **env}
        environment.pop("MLFLOW_EXPERIMENT_NAME", None)
        environment.pop("MLFLOW_RUN_ID", None)
        proc = subprocess.run([sys.executable, "-m", f"steps.{module}", *args], cwd=PROJECT_DIR, env=environment,
                              capture_output=True, text=True, timeout=900)
        runs = self.client.search_runs([experiment_id or self.experiment_id], order_by=["attributes.start_time DESC"],
                                       max_results=1)
        return proc.returncode, proc.stdout + proc.stderr, runs[0]


def _disk_full(run):
    """The run's error tag parsed as the DiskFull line (asserting it is one)."""
    error = run.data.tags.get("error", "")
    match = MESSAGE.match(error)
    assert run.info.status == "FAILED" and match, (run.info.status, error)
    return match


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("disk")
    store = Store(root)
    store.dataset = make_synthetic_dataset(root / "dataset", seed=3)
    code, output, run = store.step("preprocess", ["--data-dir", str(store.dataset), "--num-workers", "1"])
    assert code == 0, output[-3000:]
    store.data_run_id = run.info.run_id
    return store


def test_preprocess_full_disk_while_writing_records(store, tmp_path):
    """TMPDIR (where the records are written) has room for a third of the dataset."""
    folder = tmp_path / "small"
    dataset_bytes = folder_size(store.dataset)
    with small_filesystem(folder, dataset_bytes // 3) as resize:
        args = ["--data-dir", str(store.dataset), "--num-workers", "1"]
        code, output, run = store.step("preprocess", args, TMPDIR=str(folder))
        assert code != 0
        match = _disk_full(run)
        assert match["path"].startswith(str(folder)) and match["path"].endswith("/data")
        assert float(match["needed"]) == pytest.approx(dataset_bytes / 2**20, abs=0.05)
        assert float(match["free"]) < float(match["needed"])
        assert not list(folder.rglob("*.record*"))  # nothing half-written left (the step's temporary folder is gone)
        resize(4 * dataset_bytes)
        code, output, run = store.step("preprocess", args, TMPDIR=str(folder))
        assert code == 0 and run.info.status == "FINISHED", output[-3000:]


@pytest.fixture(scope="module")
def retrained(store, tmp_path_factory):
    """A retrain run with the tests' settings (its output folder kept): (run, output folder)."""
    reference = tmp_path_factory.mktemp("reference") / "out"
    code, output, run = store.step("retrain", ["--data-run-id", store.data_run_id, "--output-dir", str(reference),
                                               *RETRAIN])
    assert code == 0, output[-3000:]
    return run, reference


def test_retrain_full_disk_at_a_checkpoint_resumes_from_the_last_complete_one(store, retrained, tmp_path):
    """The output folder has room for one checkpoint and a half: the first (step 2) is written, the second
    (step 4) is not. After remounting larger, the same command resumes from step 2."""
    reference = retrained[1]
    checkpoint_bytes = sum(p.stat().st_size for p in (reference / "checkpoints").glob("ckpt-2.*"))
    others = folder_size(reference / "tensorboard") + folder_size(reference / "detector.json")
    folder = tmp_path / "small"
    with small_filesystem(folder, int(1.5 * checkpoint_bytes) + others + (256 << 10)) as resize:
        args = ["--data-run-id", store.data_run_id, "--output-dir", str(folder / "out"), *RETRAIN]
        code, output, run = store.step("retrain", args)
        assert code != 0
        match = _disk_full(run)
        assert match["path"] == str(folder / "out" / "checkpoints")
        # The estimate is the variables' bytes, the checkpoint's data file.
        assert float(match["needed"]) == pytest.approx(checkpoint_bytes / 2**20, rel=0.02)
        checkpoints = folder / "out" / "checkpoints"
        assert not list(checkpoints.glob("*_temp*"))  # the half-written checkpoint was removed
        assert 'model_checkpoint_path: "ckpt-2"' in (checkpoints / "checkpoint").read_text()
        resize(6 * checkpoint_bytes + others)
        code, output, run = store.step("retrain", args)
        assert code == 0 and run.info.status == "FINISHED", output[-3000:]
        assert f"retrain: resuming from {checkpoints / 'ckpt-2'} (step 2)" in output


def test_artifact_logging_on_a_full_artifact_store(store, tmp_path):
    """The experiment's artifact location has less room than the preprocess outputs: refused before copying,
    nothing of them left in the run's artifacts; with room, the same step logs them."""
    folder = tmp_path / "small"
    with small_filesystem(folder, 256 << 10) as resize:
        experiment = store.client.create_experiment("disk_artifacts", artifact_location=(folder / "a").as_uri())
        args = ["--data-dir", str(store.dataset), "--num-workers", "1"]
        code, output, run = store.step("preprocess", args, experiment_id=experiment)
        assert code != 0
        match = _disk_full(run)
        assert match["path"] == str(folder / "a" / run.info.run_id / "artifacts" / "data")
        assert not (folder / "a" / run.info.run_id / "artifacts" / "data").exists()
        resize(8 * folder_size(store.dataset))
        code, output, run = store.step("preprocess", args, experiment_id=experiment)
        assert code == 0 and run.info.status == "FINISHED", output[-3000:]
        assert (folder / "a" / run.info.run_id / "artifacts" / "data" / "label_map.pbtxt").is_file()


def test_convert_full_disk_while_exporting(store, retrained, tmp_path):
    """TMPDIR holds the downloaded inputs and the exports: room for the inputs and one copy of the weights,
    where the exports (SavedModel, frozen graph, float and int8 TFLite) need about four."""
    run, reference = retrained
    artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
    data = Path(store.client.get_run(store.data_run_id).info.artifact_uri.removeprefix("file://")) / "data"
    weights = (reference / "model.weights.h5").stat().st_size
    inputs = folder_size(artifacts / "model") + folder_size(data)
    folder = tmp_path / "small"
    with small_filesystem(folder, inputs + weights + (1 << 20)) as resize:
        args = ["--data-run-id", store.data_run_id, "--model-run-id", run.info.run_id,
                "--num-calibration-images", "2"]
        code, output, failed = store.step("convert", args, TMPDIR=str(folder))
        assert code != 0
        match = _disk_full(failed)
        assert match["path"].startswith(str(folder))
        assert float(match["needed"]) == pytest.approx(4 * weights / 2**20, abs=0.05)
        assert not list(folder.rglob("*.tflite"))  # the step's temporary folder is gone
        resize(inputs + 12 * weights + (64 << 20))
        code, output, finished = store.step("convert", args, TMPDIR=str(folder))
        assert code == 0 and finished.info.status == "FINISHED", output[-3000:]

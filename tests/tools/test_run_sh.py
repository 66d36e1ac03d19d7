"""run.sh's choices: which TensorFlow build it installs (CPU, or CUDA where an NVIDIA GPU answers), which Docker
image it builds and how it runs it. Mocked here (no GPU, no Docker engine on this machine): ``nvidia-smi``,
``nvidia-ctk`` and ``docker`` are small scripts put first on PATH; pip and the pipeline are not run
(``RUN_SH_DRY_RUN=1`` makes run.sh print those commands instead)."""
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from tools.requirements_check import requirement_lines

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin" / "python"


def _fake(folder, name, script):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def _run_sh(tmp_path, *args, device=None, gpu=None, check=True, **env):
    """Run run.sh in dry-run mode; ``gpu``: True a fake nvidia-smi that lists a GPU, False one that fails as
    without a driver, None none added."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if gpu is not None:
        _fake(bin_dir, "nvidia-smi", 'echo "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0)"\n' if gpu else
              'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9\n')
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RUN_SH_DRY_RUN": "1",
                   "PYTHON": sys.executable, **env}
    environment.pop("EDGETPU_DETECTOR_DEVICE", None)
    if device:
        environment["EDGETPU_DETECTOR_DEVICE"] = device
    result = subprocess.run([str(ROOT / "run.sh"), *args], cwd=tmp_path, env=environment, capture_output=True,
                            text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _installs(stdout):
    return [line for line in stdout.splitlines() if line.startswith("+ ") and " pip install " in line]


def test_an_answering_nvidia_smi_installs_the_cuda_build(tmp_path):
    out = _run_sh(tmp_path, "-P", "num_steps=5", gpu=True).stdout
    assert any(line.endswith(" -m pip install --quiet -r requirements-gpu.txt") for line in _installs(out))
    assert any(line.endswith("--no-deps -r requirements-nodeps.txt") for line in _installs(out))
    if VENV.exists() and "tensorflow-cpu" in subprocess.run([str(VENV), "-m", "pip", "list"], capture_output=True,
                                                           text=True).stdout:
        assert "run.sh: .venv holds tensorflow-cpu; switching it to tensorflow (requirements-gpu.txt)" in out
        assert "+ .venv/bin/python -m pip uninstall --quiet --yes tensorflow-cpu" in out
    assert out.splitlines()[-1].endswith(" -m mlflow run . --env-manager local --experiment-name edgetpu-detector "
                                         "-P num_steps=5")


@pytest.mark.parametrize("gpu, device", [(False, None), (None, "cpu"), (True, "cpu")])
def test_without_an_answering_gpu_or_when_told_cpu_the_cpu_build_stays(tmp_path, gpu, device):
    if gpu is None and shutil.which("nvidia-smi") and device is None:
        pytest.skip("this machine has a real nvidia-smi")
    out = _run_sh(tmp_path, "test", "-q", gpu=gpu, device=device).stdout
    assert _installs(out) == []  # this environment already holds requirements.txt
    assert out.splitlines()[-1].endswith(" -m pytest -q")


def test_device_told_gpu_without_nvidia_smi_and_a_bad_value(tmp_path):
    out = _run_sh(tmp_path, "ui", device="gpu").stdout
    assert any(line.endswith("-r requirements-gpu.txt") for line in _installs(out))
    bad = _run_sh(tmp_path, device="tpu", check=False)
    assert bad.returncode == 2
    assert "run.sh: EDGETPU_DETECTOR_DEVICE must be gpu, cpu or auto, not 'tpu'" in bad.stderr


def test_requirements_share_every_pin_and_the_tensorflow_version():
    cpu, gpu = (requirement_lines(ROOT / name) for name in ("requirements.txt", "requirements-gpu.txt"))
    common = requirement_lines(ROOT / "requirements-common.txt")
    assert cpu == common + [cpu[-1]] and gpu == common + [gpu[-1]]
    tf_cpu, tf_gpu = Requirement(cpu[-1]), Requirement(gpu[-1])
    assert (tf_cpu.name, tf_gpu.name, tf_gpu.extras) == ("tensorflow-cpu", "tensorflow", {"and-cuda"})
    assert str(tf_cpu.specifier) == str(tf_gpu.specifier) and str(tf_cpu.specifier).startswith("==")
    # every other file declares its own pins only: no package is pinned twice
    others = [p for p in sorted(ROOT.glob("requirements*.txt")) if p.name not in ("requirements.txt",
                                                                                   "requirements-gpu.txt")]
    names = [Requirement(line).name.lower() for path in others for line in requirement_lines(path)]
    assert len(names) == len(set(names)), "a package pinned in two files"
    assert not {"tensorflow", "tensorflow-cpu"} & set(names)


# ---------------------------------------------------------------- ./run.sh docker (no Docker engine here)


def _docker(tmp_path, toolkit, shared_dir):
    bin_dir = tmp_path / "bin"
    runtimes = '{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}' if toolkit == "runtime" \
        else '{"runc":{"path":"runc"}}'
    _fake(bin_dir, "docker", f'if [ "$1" = info ]; then echo \'{runtimes}\'; exit 0; fi\n'
                             'printf "%s\\n" "$*" >> "$DOCKER_ARGS"\n')
    if toolkit == "nvidia-ctk":
        _fake(bin_dir, "nvidia-ctk", "exit 0\n")
    data = shared_dir / "datasets" / "fruit_nuts" / "data"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "DOCKER_ARGS": str(tmp_path / "args.txt"), "DOCKER_RUNS_DIR": str(tmp_path / "runs")}
    env.pop("EDGETPU_DETECTOR_DEVICE", None)
    subprocess.run([str(ROOT / "run.sh"), "docker", "-P", f"data_dir={data}", "-P", "num_steps=5"],
                   cwd=tmp_path, env=env, check=True, timeout=60)
    build, run = (tmp_path / "args.txt").read_text().splitlines()
    return build, run, data


def test_run_sh_docker_builds_and_runs_with_mounts(tmp_path, shared_dir):
    if shutil.which("nvidia-ctk") or shutil.which("nvidia-container-cli"):
        pytest.skip("this machine has the NVIDIA container toolkit")
    build, run, data = _docker(tmp_path, None, shared_dir)
    assert build == f"build --platform linux/amd64 --build-arg DEVICE=cpu -t edgetpu-detector {ROOT}"
    assert run.startswith("run --rm --platform linux/amd64 --user ") and "--gpus" not in run
    assert f"-v {tmp_path / 'runs'}:/work/project/mlruns" in run
    assert f"-v {data}:/mnt/data_dir/data:ro" in run
    assert run.endswith("edgetpu-detector mlflow run . --env-manager local -P data_dir=/mnt/data_dir/data "
                        "-P num_steps=5")
    assert (tmp_path / "runs").is_dir()


@pytest.mark.parametrize("toolkit", ["nvidia-ctk", "runtime"])
def test_run_sh_docker_with_the_nvidia_toolkit_builds_the_gpu_image(tmp_path, shared_dir, toolkit):
    build, run, _ = _docker(tmp_path, toolkit, shared_dir)
    assert build == f"build --platform linux/amd64 --build-arg DEVICE=gpu -t edgetpu-detector-gpu {ROOT}"
    assert run.startswith("run --rm --platform linux/amd64 --gpus all --user ")
    assert " edgetpu-detector-gpu mlflow run . --env-manager local " in run


def test_dockerfile_and_dockerignore():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "edgetpu-compiler=" in dockerfile and "linux/amd64" in dockerfile
    assert "\nUSER detector\n" in dockerfile
    assert 'CMD ["mlflow", "run", ".", "--env-manager", "local"]' in dockerfile
    assert "ARG DEVICE=cpu" in dockerfile and "gpu) file=requirements-gpu.txt" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "mlruns", "mlflow.db", "docker-runs", "data", ".git"} <= set(ignored)
    assert subprocess.run(["bash", "-n", str(ROOT / "run.sh")]).returncode == 0

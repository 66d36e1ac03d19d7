#!/usr/bin/env bash
# The project's front door.
#   ./run.sh [-P name=value ...]   run the whole pipeline (MLflow project entry point `main`)
#   ./run.sh test [pytest args]    run the test suite
#   ./run.sh ui                    open the MLflow UI on the local tracking store (http://127.0.0.1:5000)
#   ./run.sh setup                 only install the pinned requirements (into .venv) when they are missing
#   ./run.sh docker [-P name=value ...]  build the Docker image (with the Edge TPU compiler) and run the
#                                  pipeline in it; runs go to ./docker-runs (DOCKER_RUNS_DIR), data is mounted
# Uses the current python3 when it already has the pinned requirements, else creates .venv on first use.
# TensorFlow's build follows the machine: the CUDA one (requirements-gpu.txt) where an NVIDIA GPU answers
# (nvidia-smi; for docker: the NVIDIA container toolkit), else the CPU one (requirements.txt);
# EDGETPU_DETECTOR_DEVICE=gpu|cpu|auto overrides. RUN_SH_DRY_RUN=1 prints the commands instead of running them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
user_cwd="$PWD"
cd "$here"

# Parameters that name files or folders: those MLproject declares with `kind: path` (read without Python).
path_parameters=" $(sed -n 's/^ *\([a-z_]*\): \(&[a-z_]* \)\{0,1\}{.*kind: path.*/\1/p' MLproject | sort -u | tr '\n' ' ')"
is_path_parameter() { case "$path_parameters" in *" $1 "*) return 0 ;; esac; return 1; }

# gpu or cpu: EDGETPU_DETECTOR_DEVICE, else auto-detection by the command given ($1: its test).
case "${EDGETPU_DETECTOR_DEVICE:-auto}" in
  gpu | cpu | auto) ;;
  *) echo "run.sh: EDGETPU_DETECTOR_DEVICE must be gpu, cpu or auto, not '$EDGETPU_DETECTOR_DEVICE'" >&2; exit 2 ;;
esac
device() {
  if [ "${EDGETPU_DETECTOR_DEVICE:-auto}" != auto ]; then
    echo "$EDGETPU_DETECTOR_DEVICE"
  elif "$1" >/dev/null 2>&1; then
    echo gpu
  else
    echo cpu
  fi
}
nvidia_gpu() { command -v nvidia-smi && nvidia-smi -L; }
nvidia_container_toolkit() {
  command -v nvidia-ctk || command -v nvidia-container-cli || docker info --format '{{json .Runtimes}}' | grep -q nvidia
}
run() { if [ -n "${RUN_SH_DRY_RUN:-}" ]; then echo "+ $*"; else "$@"; fi; }

# ./run.sh docker: no Python needed on the host. Host paths given with -P (the path parameters)
# are mounted read-only into the container and the parameter is rewritten to the mounted path.
if [ "${1:-}" = docker ]; then
  shift
  image="${DOCKER_IMAGE:-edgetpu-detector}"
  runs="${DOCKER_RUNS_DIR:-$here/docker-runs}"
  mkdir -p "$runs"
  runs="$(cd "$runs" && pwd)"
  mounts=(-v "$runs:/work/project/mlruns")
  params=()
  for arg in "$@"; do
    name="${arg%%=*}" value="${arg#*=}"
    if [ "$name" != "$arg" ] && [ -n "$value" ] && is_path_parameter "$name"; then
      case "$value" in /*) ;; *) [ -e "$user_cwd/$value" ] && value="$user_cwd/$value" ;; esac
      if [ -e "$value" ]; then
        value="$(cd "$(dirname "$value")" && pwd)/$(basename "$value")"
        mounts+=(-v "$value:/mnt/$name/$(basename "$value"):ro")
        arg="$name=/mnt/$name/$(basename "$value")"
      fi
    fi
    params+=("$arg")
  done
  # With the NVIDIA container toolkit: the image with TensorFlow's CUDA build, run with every GPU.
  docker_device="$(device nvidia_container_toolkit)" gpus=()
  if [ "$docker_device" = gpu ]; then
    image="${DOCKER_IMAGE:-edgetpu-detector-gpu}" gpus=(--gpus all)
  fi
  run docker build --platform linux/amd64 --build-arg DEVICE="$docker_device" -t "$image" "$here"
  run exec docker run --rm --platform linux/amd64 ${gpus[@]+"${gpus[@]}"} --user "$(id -u):$(id -g)" -e HOME=/tmp \
    "${mounts[@]}" "$image" mlflow run . --env-manager local ${params[@]+"${params[@]}"}
  exit
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///$here/mlflow.db}"
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="${MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR:-false}"
export PYTHONUNBUFFERED=1

python="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then
  python=.venv/bin/python
fi
# The TensorFlow build: its requirements file and its distribution's name.
tensorflow=requirements.txt distribution=tensorflow-cpu
if [ "$(device nvidia_gpu)" = gpu ]; then
  tensorflow=requirements-gpu.txt distribution=tensorflow
fi
requirements=("$tensorflow" requirements-nodeps.txt)
[ "${1:-}" = test ] && requirements+=(requirements-test.txt requirements-test-nodeps.txt)
if ! "$python" -m tools.requirements_check "${requirements[@]}" >/dev/null 2>&1; then
  if [ ! -x .venv/bin/python ]; then
    echo "run.sh: creating .venv with the pinned requirements ($tensorflow; first run only, a few minutes)"
    run "${PYTHON:-python3}" -m venv .venv
  fi
  python=.venv/bin/python
  # The two builds install the same files: remove the other one first.
  for installed in tensorflow-cpu tensorflow; do
    if [ "$installed" != "$distribution" ] && [ -x .venv/bin/python ] \
        && .venv/bin/python -m pip show --quiet "$installed" >/dev/null 2>&1; then
      echo "run.sh: .venv holds $installed; switching it to $distribution ($tensorflow)"
      run "$python" -m pip uninstall --quiet --yes "$installed"
    fi
  done
  run "$python" -m pip install --quiet -r "$tensorflow" $([ "${1:-}" = test ] && echo -r requirements-test.txt)
  run "$python" -m pip install --quiet --no-deps -r requirements-nodeps.txt \
    $([ "${1:-}" = test ] && echo -r requirements-test-nodeps.txt)
fi
export PATH="$(dirname "$("$python" -c 'import sys; print(sys.executable)')"):$PATH"

# Paths given with -P are relative to where the user ran run.sh; MLflow runs the steps from this folder.
args=()
for arg in "$@"; do
  name="${arg%%=*}" value="${arg#*=}"
  if [ "$name" != "$arg" ] && [ -n "$value" ] && is_path_parameter "$name" && [ "${value#/}" = "$value" ] \
      && { [ -e "$user_cwd/$value" ] || [ "$name" = output_dir ]; }; then
    arg="$name=$user_cwd/$value"
  fi
  args+=("$arg")
done
set -- ${args[@]+"${args[@]}"}

case "${1:-}" in
  test)
    shift
    run exec "$python" -m pytest "$@" ;;  # pytest.ini: testpaths = tests (or the files given)
  setup)
    echo "run.sh: $("$python" -c 'import sys; print(sys.executable)') holds the pinned requirements ($tensorflow)" ;;
  ui)
    shift
    run exec "$python" -m mlflow ui --backend-store-uri "$MLFLOW_TRACKING_URI" --host 127.0.0.1 "$@" ;;
  *)
    # Create the store and the experiment first, under a lock: MLflow itself does it unlocked, and several
    # pipelines started at once on a fresh store would race (edgetpu_detector/tracking/store_init.py).
    run "$python" -m tools.init_store "${MLFLOW_EXPERIMENT_NAME:-edgetpu-detector}"
    run exec "$python" -m mlflow run . --env-manager local \
      --experiment-name "${MLFLOW_EXPERIMENT_NAME:-edgetpu-detector}" "$@" ;;
esac

#!/usr/bin/env bash
# The project's front door.
#   ./run.sh [-P name=value ...]   run the whole pipeline (MLflow project entry point `main`)
#   ./run.sh test [pytest args]    run the test suite
#   ./run.sh ui                    open the MLflow UI on the local tracking store (http://127.0.0.1:5000)
#   ./run.sh docker [-P name=value ...]  build the Docker image (with the Edge TPU compiler) and run the
#                                  pipeline in it; runs go to ./docker-runs (DOCKER_RUNS_DIR), data is mounted
# Uses the current python3 when it already has the pinned requirements, else creates .venv on first use.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
user_cwd="$PWD"
cd "$here"

# Parameters that name files or folders: those MLproject declares with `kind: path` (read without Python).
path_parameters=" $(sed -n 's/^ *\([a-z_]*\): \(&[a-z_]* \)\{0,1\}{.*kind: path.*/\1/p' MLproject | sort -u | tr '\n' ' ')"
is_path_parameter() { case "$path_parameters" in *" $1 "*) return 0 ;; esac; return 1; }

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
  docker build --platform linux/amd64 -t "$image" "$here"
  exec docker run --rm --platform linux/amd64 --user "$(id -u):$(id -g)" -e HOME=/tmp "${mounts[@]}" \
    "$image" mlflow run . --env-manager local ${params[@]+"${params[@]}"}
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///$here/mlflow.db}"
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="${MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR:-false}"
export PYTHONUNBUFFERED=1

python="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then
  python=.venv/bin/python
fi
requirements=(requirements.txt requirements-nodeps.txt)
[ "${1:-}" = test ] && requirements+=(requirements-test.txt requirements-test-nodeps.txt)
if ! "$python" -m tools.requirements_check "${requirements[@]}" >/dev/null 2>&1; then
  if [ ! -x .venv/bin/python ]; then
    echo "run.sh: creating .venv with the pinned requirements (first run only, a few minutes)"
    "${PYTHON:-python3}" -m venv .venv
  fi
  python=.venv/bin/python
  "$python" -m pip install --quiet --upgrade pip
  "$python" -m pip install --quiet -r requirements.txt $([ "${1:-}" = test ] && echo -r requirements-test.txt)
  "$python" -m pip install --quiet --no-deps -r requirements-nodeps.txt \
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
    exec "$python" -m pytest "$@" ;;  # pytest.ini: testpaths = tests (or the files given)
  ui)
    shift
    exec "$python" -m mlflow ui --backend-store-uri "$MLFLOW_TRACKING_URI" --host 127.0.0.1 "$@" ;;
  *)
    exec "$python" -m mlflow run . --env-manager local \
      --experiment-name "${MLFLOW_EXPERIMENT_NAME:-edgetpu-detector}" "$@" ;;
esac

#!/usr/bin/env bash
# The project's front door.
#   ./run.sh [-P name=value ...]   run the whole pipeline (MLflow project entry point `main`)
#   ./run.sh test [pytest args]    run the test suite
#   ./run.sh ui                    open the MLflow UI on the local tracking store (http://127.0.0.1:5000)
# Uses the current python3 when it already has the pinned requirements, else creates .venv on first use.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
user_cwd="$PWD"
cd "$here"

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///$here/mlflow.db}"
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="${MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR:-false}"
export PYTHONUNBUFFERED=1

python="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then
  python=.venv/bin/python
fi
if ! "$python" -m common.requirements_check requirements.txt >/dev/null 2>&1; then
  if [ ! -x .venv/bin/python ]; then
    echo "run.sh: creating .venv with the pinned requirements (first run only, a few minutes)"
    "${PYTHON:-python3}" -m venv .venv
  fi
  python=.venv/bin/python
  "$python" -m pip install --quiet --upgrade pip
  "$python" -m pip install --quiet -r requirements.txt
fi
export PATH="$(dirname "$("$python" -c 'import sys; print(sys.executable)')"):$PATH"

# Paths given with -P are relative to where the user ran run.sh; MLflow runs the steps from this folder.
args=()
for arg in "$@"; do
  case "$arg" in
    data_dir=?*|label_map=?*|base_weights=?*)
      name="${arg%%=*}" value="${arg#*=}"
      if [ "${value#/}" = "$value" ] && [ -e "$user_cwd/$value" ]; then
        arg="$name=$user_cwd/$value"
      fi ;;
  esac
  args+=("$arg")
done
set -- ${args[@]+"${args[@]}"}

case "${1:-}" in
  test)
    shift
    exec "$python" -m pytest tests "$@" ;;
  ui)
    shift
    exec "$python" -m mlflow ui --backend-store-uri "$MLFLOW_TRACKING_URI" --host 127.0.0.1 "$@" ;;
  *)
    exec "$python" -m mlflow run . --env-manager local \
      --experiment-name "${MLFLOW_EXPERIMENT_NAME:-edgetpu-detector}" "$@" ;;
esac

# The container in which the same MLflow project runs with `--env-manager local`, with Coral's Edge TPU
# compiler on PATH so that the convert step also writes the compiled `_edgetpu.tflite` and its log.
#
# Coral publishes edgetpu-compiler for x86-64 (amd64) Linux only: the image is built for linux/amd64 (on an
# ARM host, Docker runs it under emulation, slowly).
#
# DEVICE=cpu (default) installs TensorFlow's CPU build (requirements.txt); DEVICE=gpu its CUDA build
# (requirements-gpu.txt: CUDA and cuDNN come as pip packages, the host needs an NVIDIA driver and the NVIDIA
# container toolkit, and the container runs with --gpus all).
#
#   ./run.sh docker [-P name=value ...]      builds this image and runs the pipeline in it (see README.md); with
#                                            the NVIDIA container toolkit on the host, the DEVICE=gpu image
#   docker build -t edgetpu-detector .
#   docker build --build-arg DEVICE=gpu -t edgetpu-detector-gpu .    (then docker run --gpus all ...)
#   docker run --rm -v "$PWD/docker-runs:/work/project/mlruns" -v /path/to/labels:/data:ro edgetpu-detector \
#       mlflow run . --env-manager local -P data_dir=/data
FROM --platform=linux/amd64 python:3.11.11-slim-bookworm

ARG EDGETPU_COMPILER_VERSION=16.0

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false

# Coral's package repository: the Edge TPU compiler (pinned) and the Edge TPU runtime (libedgetpu.so.1).
# git lets `mlflow run` record the project's commit; gnupg only verifies Coral's key and is removed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg git \
 && curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg \
      | gpg --dearmor -o /usr/share/keyrings/coral-edgetpu.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] https://packages.cloud.google.com/apt coral-edgetpu-stable main" \
      > /etc/apt/sources.list.d/coral-edgetpu.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends "edgetpu-compiler=${EDGETPU_COMPILER_VERSION}*" libedgetpu1-std \
 && apt-get purge -y gnupg curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && edgetpu_compiler --version

# The project's pinned dependency set with the TensorFlow build of DEVICE, in its own layer so code edits do
# not reinstall it.
ARG DEVICE=cpu
COPY requirements.txt requirements-gpu.txt requirements-common.txt requirements-nodeps.txt /tmp/
RUN case "$DEVICE" in cpu) file=requirements.txt ;; gpu) file=requirements-gpu.txt ;; \
      *) echo "DEVICE must be cpu or gpu, not $DEVICE" >&2; exit 1 ;; esac \
 && pip install -r "/tmp/$file" && pip install --no-deps -r /tmp/requirements-nodeps.txt \
 && rm /tmp/requirements*.txt

RUN useradd --create-home --uid 1000 detector
WORKDIR /work/project
COPY --chown=detector:detector . .

# The tracking database and the artifacts (MLflow's default ./mlruns) share one folder meant to be mounted,
# so that runs outlive the container. Runs as a non-root user; `./run.sh docker` passes the host user's
# uid/gid (with HOME=/tmp) so that the files it writes into the mounted folder belong to that user.
RUN mkdir -p /work/project/mlruns && chown detector:detector /work/project/mlruns && chmod 1777 /work/project/mlruns
USER detector
# Unfinished steps' work folders (training checkpoints to resume from) live in the mounted folder too.
ENV MLFLOW_TRACKING_URI=sqlite:////work/project/mlruns/mlflow.db \
    MLFLOW_EXPERIMENT_NAME=edgetpu-detector \
    EDGETPU_DETECTOR_WORK_DIR=/work/project/mlruns/.work

CMD ["mlflow", "run", ".", "--env-manager", "local"]

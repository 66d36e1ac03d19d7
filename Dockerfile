# The container in which the same MLflow project runs with `--env-manager local`, with Coral's Edge TPU
# compiler on PATH so that the convert step also writes the compiled `_edgetpu.tflite`.
# The Edge TPU compiler is published for x86-64 Linux only: build this image for linux/amd64.
#
#   docker build -t edgetpu-detector .
#   docker run --rm -v "$PWD/docker-runs:/work/project/mlruns" edgetpu-detector
#   docker run --rm -v "$PWD/docker-runs:/work/project/mlruns" -v /path/to/labels:/data:ro edgetpu-detector \
#       mlflow run . --env-manager local -P data_dir=/data
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    TF_ENABLE_ONEDNN_OPTS=0 \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false

# Coral's package repository: edgetpu-compiler and the Edge TPU runtime (libedgetpu.so.1).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg git \
 && curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg \
      | gpg --dearmor -o /usr/share/keyrings/coral-edgetpu.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] https://packages.cloud.google.com/apt coral-edgetpu-stable main" \
      > /etc/apt/sources.list.d/coral-edgetpu.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends edgetpu-compiler libedgetpu1-std \
 && apt-get purge -y gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

RUN useradd --create-home --uid 1000 detector
WORKDIR /work/project
COPY --chown=detector:detector . .
USER detector

# The tracking database and the artifacts (MLflow's default ./mlruns) share one folder meant to be mounted,
# so that runs outlive the container.
RUN mkdir -p /work/project/mlruns
ENV MLFLOW_TRACKING_URI=sqlite:////work/project/mlruns/mlflow.db
CMD ["mlflow", "run", ".", "--env-manager", "local", "--experiment-name", "edgetpu-detector"]

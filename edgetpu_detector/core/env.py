"""Process environment for TensorFlow: import this module before TensorFlow to keep its start-up quiet.

TF 2.21 prints C++ INFO/WARNING lines (``TF_CPP_MIN_LOG_LEVEL``) and a oneDNN notice
(``TF_ENABLE_ONEDNN_OPTS``) on every start; both are silenced unless the user already set them. MLflow's per-file download bars are turned off.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

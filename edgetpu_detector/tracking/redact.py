"""Keep credentials out of logs, tags and artifacts.

MLflow reads credentials from the environment (``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` /
``MLFLOW_TRACKING_TOKEN`` for a tracking server with basic or bearer auth; the cloud SDKs' own variables for
S3, GCS and Azure artifact stores). Nothing in this project prints or logs those variables; as a second
line of defence, text that goes into a run (step logs, error tags) passes through ``redact``, and tracking
URIs are shown through ``redact_uri``.
"""
import os
import re
from urllib.parse import urlsplit, urlunsplit

# Environment variables whose values are secrets (MLflow's and the artifact stores' documented ones).
SECRET_VARIABLES = (
    "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_CLIENT_CERT_PATH",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_CLIENT_SECRET", "DATABRICKS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS_JSON",
)
MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def secret_values(environ=None):
    """The non-trivial values (str, at least 4 characters) of ``SECRET_VARIABLES`` in ``environ``
    (default ``os.environ``), longest first."""
    environ = os.environ if environ is None else environ
    values = {environ.get(name, "") for name in SECRET_VARIABLES}
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text, secrets=None):
    """``text`` with every secret value (default: ``secret_values()``) and every ``user:password@`` part of
    a URL replaced by ``***``."""
    for secret in secret_values() if secrets is None else secrets:
        text = text.replace(secret, MASK)
    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]*@", rf"\1{MASK}@", text)


def redact_uri(uri):
    """A tracking or artifact URI safe to print: user and password removed (``http://***@host``)."""
    parts = urlsplit(str(uri))
    if parts.username is None and parts.password is None:
        return str(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{MASK}@{host}", parts.path, parts.query, parts.fragment))

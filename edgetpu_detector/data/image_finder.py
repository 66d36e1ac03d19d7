"""Find the image file an annotation names, only ever inside the dataset folder.

Order for a name written in an annotation: the name (it may hold a relative path, joined safely: see
edgetpu_detector.data.formats.base.safe_relative) in each search folder; the same base name there, ignoring case
(``.JPG`` vs ``.jpg``); the annotation file's stem with any image extension (VOC, YOLO); then the base
name anywhere in the dataset folder, when exactly one file has it (preferring the annotation's split
folder). Folder listings are cached, so finding N images costs O(N), not O(N^2).
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from edgetpu_detector.data.formats.base import PathOutside, is_image_file, is_inside, list_files, safe_relative


class NotFound(LookupError):
    """No image, or several candidates (``ambiguous``)."""

    def __init__(self, message: str, ambiguous: bool = False):
        super().__init__(message)
        self.ambiguous = ambiguous


class ImageFinder:
    """Resolves annotation file names to image paths inside ``data_dir`` (resolved, absolute)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self._listings: dict[Path, dict] = {}
        self._index: dict[str, list[Path]] | None = None
        self.referenced: set[Path] = set()  # every image file an annotation led to (kept or not)

    def _listing(self, directory: Path) -> dict:
        if directory not in self._listings:
            by_lower, by_stem = {}, {}
            if directory.is_dir():
                for entry in sorted(directory.iterdir()):
                    if entry.is_file():
                        by_lower.setdefault(entry.name.lower(), []).append(entry)
                        if is_image_file(entry):
                            by_stem.setdefault(entry.stem, []).append(entry)
            self._listings[directory] = {"lower": by_lower, "stem": by_stem}
        return self._listings[directory]

    def all_images(self) -> dict[str, list[Path]]:
        """Every image file under the folder, keyed by lower-case base name (built once)."""
        if self._index is None:
            self._index = {}
            for path in list_files(self.data_dir, is_image_file):
                self._index.setdefault(path.name.lower(), []).append(path)
        return self._index

    def _inside(self, path: Path) -> Path:
        self.referenced.add(path)
        if not is_inside(path, self.data_dir):
            raise PathOutside(f"{path.name!r} links outside the dataset folder")
        return path

    def find(self, name: str | None, search_dirs, annotation_path: Path, stem_fallback: bool = True,
             split: str | None = None) -> tuple[Path, str | None]:
        """Return (image path, note); ``note`` says how a differing name was resolved, else None.

        Raises:
            PathOutside: the name is absolute-with-'..' or climbs out, or the file found links outside.
            NotFound: no image (``ambiguous`` when several files in different folders share the name).
        """
        note = None
        relative = None
        if name:
            text = name.strip()
            if text.replace("\\", "/").startswith("/") or PureWindowsPath(text).drive:
                base = PureWindowsPath(text).name
                if ".." in PurePosixPath(text.replace("\\", "/")).parts:
                    raise PathOutside(f"file name {name!r} climbs out with '..'")
                note = f"absolute path {name!r} looked up by its base name"
                relative = PurePosixPath(base) if base not in ("", ".", "..") else None
            else:
                relative = safe_relative(text)
        search_dirs = [Path(d) for d in search_dirs]
        if relative is not None:
            for directory in search_dirs:
                candidate = directory.joinpath(*relative.parts)
                if candidate.is_file():
                    return self._inside(candidate), note
            for directory in search_dirs:
                matches = self._listing(directory)["lower"].get(relative.name.lower(), [])
                if matches:
                    return self._inside(matches[0]), note or f"file name {name!r} matched {matches[0].name!r} ignoring case"
        if stem_fallback:
            for directory in search_dirs:
                matches = self._listing(directory)["stem"].get(annotation_path.stem, [])
                if matches:
                    found = matches[0]
                    if relative is not None and found.name != relative.name:
                        note = f"file name {name!r} disagrees with the image {found.name!r} found by the annotation's name"
                    return self._inside(found), note
        if relative is not None:
            matches = self.all_images().get(relative.name.lower(), [])
            if split and len(matches) > 1:
                in_split = [m for m in matches if split in [p.lower() for p in m.relative_to(self.data_dir).parts[:-1]]]
                matches = in_split or matches
            if len(matches) == 1:
                found = matches[0]
                if found.name != relative.name:
                    note = f"file name {name!r} matched {found.name!r} ignoring case"
                return self._inside(found), note
            if len(matches) > 1:
                where = ", ".join(m.relative_to(self.data_dir).as_posix() for m in matches[:5])
                raise NotFound(f"file name {name!r} matches {len(matches)} images: {where}", ambiguous=True)
        shown = name if name else f"{annotation_path.stem}.*"
        raise NotFound(f"image {shown!r} not found in the dataset folder")

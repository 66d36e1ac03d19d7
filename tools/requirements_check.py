"""Is the running Python's environment the project's pinned one? ``run.sh`` asks before every run, to decide
whether to create ``.venv``.

Usage: ``python -m tools.requirements_check requirements.txt [requirements-nodeps.txt ...]`` exits 0 when every
requirement is installed at a version that satisfies it, else prints what is missing or different and exits
1. Requirements are parsed and versions compared by ``packaging`` (PEP 440 and PEP 508, as pip does); a
Python without ``packaging`` cannot hold the pins (TensorFlow requires it), so it fails the check too.
"""
from importlib import metadata
from pathlib import Path
import sys


def requirement_lines(path):
    """The requirement lines of a requirements file, those of the files it includes (``-r file`` or
    ``--requirement file``, relative to the including file, as pip reads them) in place; comments, blank lines
    and other options left out.

    Raises:
      FileNotFoundError: a missing file (named); ValueError: a file that includes itself.
    """
    return list(_lines(Path(path), ()))


def _lines(path, including):
    if path.resolve() in including:
        raise ValueError(f"{path}: includes itself through {' -> '.join(map(str, including))}")
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            option, _, value = line.replace("=", " ", 1).partition(" ") if line.startswith("-") else ("", "", "")
            if option in ("-r", "--requirement"):
                yield from _lines(path.parent / value.strip(), including + (path.resolve(),))
            elif line and not line.startswith("-"):
                yield line


def _unmet(requirement, extra=None):
    """Problem text for one ``packaging`` Requirement (and, recursively, the requirements its extras add)."""
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra or ""}):
        return []
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return [f"{requirement.name}: not installed"]
    if not requirement.specifier.contains(installed, prereleases=True):
        return [f"{requirement.name}: {installed} installed, need {requirement.specifier}"]
    from packaging.requirements import Requirement

    problems = []
    for name in sorted(requirement.extras):  # e.g. tensorflow[and-cuda]: the CUDA packages it declares
        for text in metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            if dependency.marker is not None and "extra" in str(dependency.marker):
                problems += _unmet(dependency, name)
    return problems


def unmet_requirements(path):
    """Human-readable problems (``"mlflow: 3.16.1 installed, need ==3.17.2"``); empty when all are met.
    Included files (``-r``) are checked too, and the requirements an extra adds (``tensorflow[and-cuda]``).

    Raises:
      packaging.requirements.InvalidRequirement: a line that is not a requirement (names it).
    """
    from packaging.requirements import Requirement

    return [problem for line in requirement_lines(path) for problem in _unmet(Requirement(line))]


def main(paths):
    try:
        import packaging  # noqa: F401
    except ImportError:
        print("packaging: not installed")
        return 1
    unmet = [problem for path in (paths or ["requirements.txt"]) for problem in unmet_requirements(path)]
    for problem in unmet:
        print(problem)
    return 1 if unmet else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

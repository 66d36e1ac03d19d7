"""Is the running Python's environment the project's pinned one? ``run.sh`` asks before every run, to decide
whether to create ``.venv``.

Usage: ``python -m tools.requirements_check requirements.txt [requirements-nodeps.txt ...]`` exits 0 when every
requirement is installed at a version that satisfies it, else prints what is missing or different and exits
1. Requirements are parsed and versions compared by ``packaging`` (PEP 440 and PEP 508, as pip does); a
Python without ``packaging`` cannot hold the pins (TensorFlow requires it), so it fails the check too.
"""
from importlib import metadata
import sys


def unmet_requirements(path):
    """Human-readable problems (``"mlflow: 3.16.1 installed, need ==3.17.2"``); empty when all are met.

    Raises:
      packaging.requirements.InvalidRequirement: a line that is not a requirement (names it).
    """
    from packaging.requirements import Requirement

    problems = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue
            try:
                installed = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                problems.append(f"{requirement.name}: not installed")
                continue
            if not requirement.specifier.contains(installed, prereleases=True):
                problems.append(f"{requirement.name}: {installed} installed, need {requirement.specifier}")
    return problems


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

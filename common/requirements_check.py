"""Is the running Python's environment the project's pinned one? Standard library only: it runs before
any dependency is installed (``run.sh`` uses it to decide whether to create ``.venv``).

Usage: ``python -m common.requirements_check requirements.txt [requirements-nodeps.txt ...]`` exits 0 when every requirement is
installed at a version that satisfies it, else prints what is missing or different and exits 1.
"""
from importlib import metadata
import re
import sys

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*(?:#.*)?$")


def _version_tuple(text):
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"[.+]", text))


def _satisfies(installed, spec):
    """True when version string ``installed`` meets every clause of ``spec`` (e.g. ``>=1.2,<2`` or ``==3.1.*``)."""
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        op, wanted = re.match(r"(==|>=|<=|!=|~=|<|>)\s*(.+)", clause).groups()
        if wanted.endswith(".*"):
            prefix = wanted[:-2]
            ok = installed == prefix or installed.startswith(prefix + ".")
            ok = ok if op == "==" else not ok
        else:
            a, b = _version_tuple(installed), _version_tuple(wanted)
            try:
                ok = {"==": a == b, ">=": a >= b, "<=": a <= b, "!=": a != b, "<": a < b, ">": a > b,
                      "~=": a >= b}[op]
            except TypeError:  # mixed int/str parts (pre-releases): compare as text
                ok = installed == wanted if op == "==" else True
        if not ok:
            return False
    return True


def unmet_requirements(path):
    """List of human-readable problems (``"mlflow: 3.16.1 installed, need ==3.17.2"``); empty when all met."""
    problems = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            name, spec = _REQUIREMENT.match(line).groups()[:2]
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                problems.append(f"{name}: not installed")
                continue
            if spec and not _satisfies(installed, spec):
                problems.append(f"{name}: {installed} installed, need {spec}")
    return problems


if __name__ == "__main__":
    unmet = [problem for path in (sys.argv[1:] or ["requirements.txt"]) for problem in unmet_requirements(path)]
    for problem in unmet:
        print(problem)
    sys.exit(1 if unmet else 0)

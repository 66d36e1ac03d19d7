"""The MLproject file: the one declaration of every entry point's parameters.

Each parameter is declared once, in ``MLproject``, with its MLflow ``type``, its ``default`` (none: required)
and a ``help`` text; MLflow ignores keys it does not know. Everything else derives from it: the step CLIs'
arguments and their parsing, the driver's forwarding to each step, the step cache's normalization, the
README's parameter table (``tools/readme_tables.py``), and a test that holds the config dataclasses' defaults
and each entry point's ``command`` to it.

The kind of a value (how it is parsed and compared) is the YAML type of its default -- ``300`` an int,
``0.001`` a float, ``false`` a bool, anything else text -- unless the parameter says ``kind: path`` (a file
or folder) or ``kind: list`` (a comma-separated set).
"""
from dataclasses import dataclass
from pathlib import Path

import yaml

from edgetpu_detector.core.values import parse_bool, parse_list, parse_whole_number

PROJECT_FILE = "MLproject"
KINDS = ("int", "float", "bool", "text", "path", "list")


@dataclass(frozen=True)
class Parameter:
    """One entry-point parameter: ``name``, MLflow ``type``, ``default`` (YAML value; None when required),
    ``help`` text and ``kind`` (one of ``KINDS``)."""

    name: str
    type: str
    default: object
    help: str
    kind: str

    @property
    def required(self):
        return self.default is None

    @property
    def flag(self):
        """The command-line option: ``--num-steps`` for ``num_steps``."""
        return "--" + self.name.replace("_", "-")

    def parse(self, text):
        """The Python value of ``text`` as given on the command line (int, float, bool, str; a list stays
        text, split by ``edgetpu_detector.core.values.parse_list`` where it is used).

        Raises:
          ValueError: a value of the wrong kind (the message quotes it).
        """
        if self.kind == "int":
            return parse_whole_number(text)
        if self.kind == "float":
            return float(text)
        if self.kind == "bool":
            return parse_bool(text)
        return str(text)

    def normalize(self, value):
        """Canonical text of a value, equal for equal values however they are written: numbers as Python
        floats whatever the parameter's kind (``300``, ``"300.0"`` and ``3e2`` -> ``"300.0"``; ``max_detections``
        takes ``auto`` or a number), booleans ``true``/``false``, lists as sorted lowercase sets, existing paths
        absolute. Other values are kept as stripped text, so the step itself reports bad ones."""
        text = str(value).strip()
        if self.kind == "list":
            return ",".join(sorted({item.lower() for item in parse_list(text)}))
        if self.kind == "path" and text and Path(text).expanduser().exists():
            return str(Path(text).expanduser().resolve())
        if self.kind != "bool":
            try:
                return repr(float(text))
            except ValueError:
                pass
        if self.kind == "bool" or text.isalpha():  # a text parameter's "1" is a number, not a boolean
            try:
                return "true" if parse_bool(text) else "false"
            except ValueError:
                pass
        return text


def _kind(spec):
    if spec.get("kind"):
        if spec["kind"] not in KINDS:
            raise ValueError(f"unknown parameter kind {spec['kind']!r}; expected one of {', '.join(KINDS)}")
        return spec["kind"]
    default = spec.get("default")
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "text"


def read_project(project_dir):
    """``{entry point: {"command": str, "parameters": {name: Parameter}}}`` from ``project_dir/MLproject``.

    Raises:
      FileNotFoundError: no MLproject; ValueError: a parameter without ``help`` or with an unknown ``kind``
      (the message names the entry point and the parameter).
    """
    path = Path(project_dir) / PROJECT_FILE
    spec = yaml.safe_load(path.read_text())
    project = {}
    for entry_point, entry in spec["entry_points"].items():
        parameters = {}
        for name, value in (entry.get("parameters") or {}).items():
            value = value if isinstance(value, dict) else {"type": str(value)}
            if not value.get("help"):
                raise ValueError(f"{path}: parameter {name!r} of {entry_point!r} has no help text")
            try:
                kind = _kind(value)
            except ValueError as error:
                raise ValueError(f"{path}: parameter {name!r} of {entry_point!r}: {error}") from None
            parameters[name] = Parameter(name, value.get("type", "string"), value.get("default"),
                                         " ".join(str(value["help"]).split()), kind)
        project[entry_point] = {"command": entry["command"], "parameters": parameters}
    return project


def entry_point_parameters(project_dir, entry_point):
    """``{name: Parameter}`` of one entry point.

    Raises:
      KeyError: no such entry point (the message names it and the MLproject file).
    """
    project = read_project(project_dir)
    if entry_point not in project:
        raise KeyError(f"{Path(project_dir) / PROJECT_FILE}: no entry point {entry_point!r}")
    return project[entry_point]["parameters"]


def normalize_parameters(parameters, declared):
    """``{name: canonical text}`` of ``parameters`` (``{name: value}``) per their declarations ``declared``
    (``{name: Parameter}``); an undeclared name is compared as text."""
    return {name: declared[name].normalize(value) if name in declared
            else Parameter(name, "string", "", "", "text").normalize(value)
            for name, value in parameters.items()}

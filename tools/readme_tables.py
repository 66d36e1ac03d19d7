"""README tables generated from the code, so that they cannot drift: the pipeline's parameters (from MLproject)
and the layout of the repository (from each package's ``__init__`` docstring).

Usage: ``python -m tools.readme_tables`` rewrites the tables in README.md between their markers
(``<!-- parameters -->`` ... ``<!-- /parameters -->``, ``<!-- layout -->`` ... ``<!-- /layout -->``);
``--check`` only says whether they are up to date (exit 1 when not). The tests check it too.
"""
import ast
import configparser
from pathlib import Path
import re
import sys

from edgetpu_detector.tracking.parameters import entry_point_parameters

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGE = "edgetpu_detector"
# Top-level entries of the layout table that are not Python packages, and what they are.
OTHER_ENTRIES = {
    "MLproject": "the MLflow project: entry points and every parameter, declared once",
    "conda.yaml, requirements*.txt": ("environments: `requirements-common.txt` holds the shared pins, "
                                      "`requirements.txt` adds TensorFlow's CPU build, `requirements-gpu.txt` "
                                      "its CUDA build"),
    "steps/": "layer 1: one thin CLI per entry point (parse, call the library, log) and the driver `main`",
    "tests/": "pytest suite, one folder per package, and the end-to-end runs",
    "bench/": "measurements that take longer than a test",
    "tools/": "layer 1: tools outside the library: requirements check, these tables, copying model metadata",
    "run.sh, Dockerfile": "front door and container",
    ".importlinter": "the layer contracts, checked by import-linter in the tests",
}


def _cell(text):
    return text.replace("``", "`").replace("|", "\\|")


def parameter_table(project_dir=PROJECT_DIR, entry_point="main"):
    """The Markdown table ``| parameter | default | meaning |`` of an entry point's parameters."""
    rows = ["| parameter | default | meaning |", "|---|---|---|"]
    for parameter in entry_point_parameters(project_dir, entry_point).values():
        default = parameter.default
        shown = "empty" if default == "" else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `{parameter.name}` | `{shown}` | {_cell(parameter.help)} |")
    return "\n".join(rows)


def _summary(init_file):
    docstring = ast.get_docstring(ast.parse(init_file.read_text())) or ""
    return " ".join(docstring.split("\n\n")[0].split())


def _layers(project_dir):
    """``{package: layer number}`` from the layers contract of ``.importlinter`` (1 = top)."""
    config = configparser.ConfigParser()
    config.read(Path(project_dir) / ".importlinter")
    layers = config["importlinter:contract:layers"]["layers"].split("\n")
    return {name.strip(): number for number, line in enumerate(filter(None, layers), start=1)
            for name in line.split("|")}


def layout_table(project_dir=PROJECT_DIR):
    """The Markdown table ``| layer | path | what |``: the library's packages, top layer first (from
    ``.importlinter``), each described by its ``__init__`` docstring; then the rest of the repository."""
    root = Path(project_dir) / PACKAGE
    layers = _layers(project_dir)
    packages = sorted(root.glob("*/__init__.py"), key=lambda p: (layers[f"{PACKAGE}.{p.parent.name}"], p.parent.name))
    rows = ["| layer | path | what |", "|---|---|---|"]
    for init in packages:
        layer = layers[f"{PACKAGE}.{init.parent.name}"]
        rows.append(f"| {layer} | `{PACKAGE}/{init.parent.name}/` | {_cell(_summary(init))} |")
        for sub in sorted(init.parent.glob("*/__init__.py")):
            rows.append(f"| {layer} | `{PACKAGE}/{init.parent.name}/{sub.parent.name}/` | {_cell(_summary(sub))} |")
    rows += [f"| | `{name}` | {what} |" for name, what in OTHER_ENTRIES.items()]
    return "\n".join(rows)


TABLES = {"parameters": parameter_table, "layout": layout_table}


def updated_readme(text, project_dir=PROJECT_DIR):
    """``text`` with every generated table replaced by its current version."""
    for name, build in TABLES.items():
        pattern = re.compile(rf"(<!-- {name} -->\n).*?(\n<!-- /{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README.md has no <!-- {name} --> ... <!-- /{name} --> markers")
        text = pattern.sub(lambda m: m.group(1) + build(project_dir) + m.group(2), text)
    return text


def main(argv):
    readme = PROJECT_DIR / "README.md"
    text = readme.read_text()
    new = updated_readme(text)
    if "--check" in argv:
        print("README tables are up to date" if new == text else "README tables are out of date: "
              "run python -m tools.readme_tables")
        return 0 if new == text else 1
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

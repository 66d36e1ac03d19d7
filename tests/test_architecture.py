"""The architecture is checked, not hoped for: layer contracts (import-linter), no import cycles, small
modules, every package saying what it owns and may import, and README tables generated from the code."""
import ast
from pathlib import Path
import shutil
import subprocess
import sys

import grimp
import pytest

from tools.readme_tables import updated_readme

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGES = ("edgetpu_detector", "steps", "tools")
MAX_LINES = 300


def _lint_imports(cwd):
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_layer_contracts_are_kept():
    result = _lint_imports(PROJECT_DIR)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def test_a_layer_violation_breaks_a_contract(tmp_path):
    # The contracts can fail: the same tree with one upward import (ssd importing training) is refused.
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns(".git", ".venv", "mlruns", "tests", "bench",
                                                                      "__pycache__", "*.db"))
    anchors = copy / "edgetpu_detector/ssd/anchors.py"
    anchors.write_text(anchors.read_text() + "\nfrom edgetpu_detector.training import loop  # noqa\n")
    result = _lint_imports(copy)
    assert result.returncode == 1
    assert "edgetpu_detector.ssd.anchors -> edgetpu_detector.training.loop" in result.stdout


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(graph.modules)
    state, cycle = {}, []

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                cycle.extend(path[path.index(imported):] + [imported] if imported in path else [module, imported])
                return True
            if imported not in state and visit(imported, path + [imported]):
                return True
        state[module] = "done"
        return False

    for module in modules:
        if module not in state and visit(module, [module]):
            break
    assert not cycle, " -> ".join(cycle)


def _python_files():
    return sorted(p for package in PACKAGES for p in (PROJECT_DIR / package).rglob("*.py"))


def test_no_module_over_300_lines():
    long = {str(p.relative_to(PROJECT_DIR)): n for p in _python_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long


@pytest.mark.parametrize("init", sorted((PROJECT_DIR / "edgetpu_detector").rglob("__init__.py")),
                         ids=lambda p: str(p.parent.relative_to(PROJECT_DIR)))
def test_every_package_says_what_it_owns_and_may_import(init):
    docstring = ast.get_docstring(ast.parse(init.read_text()))
    assert docstring and len(docstring.split("\n\n")[0]) > 40
    tree = ast.parse(init.read_text())
    assert all(isinstance(node, ast.Expr) for node in tree.body), "an __init__ holds its docstring only"
    if init.parent.name != "edgetpu_detector":
        assert "May import" in docstring


def test_readme_tables_are_generated_from_the_code():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert updated_readme(readme) == readme, "run python -m tools.readme_tables"


def test_docstrings_name_modules_that_exist():
    """Every ``edgetpu_detector.<module>[.<name>]`` written in the code, MLproject or the README resolves."""
    import importlib
    import re

    texts = [p for p in _python_files()] + [PROJECT_DIR / "README.md", PROJECT_DIR / "MLproject"]
    missing = set()
    for path in texts:
        for reference in set(re.findall(r"edgetpu_detector(?:\.[A-Za-z_]\w*)+", path.read_text())):
            parts = reference.split(".")
            for k in range(len(parts), 0, -1):
                try:
                    target = importlib.import_module(".".join(parts[:k]))
                except ImportError:
                    continue
                for name in parts[k:]:
                    target = getattr(target, name, None)
                if target is None:
                    missing.add(f"{path.relative_to(PROJECT_DIR)}: {reference}")
                break
    assert not missing, sorted(missing)

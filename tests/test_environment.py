"""The pinned environment check used by run.sh, and the step CLIs' number parsing."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from common.requirements_check import _satisfies, unmet_requirements
from steps._cli import whole_number

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("installed, spec, ok", [
    ("2.21.0", "==2.21.0", True), ("2.21.1", "==2.21.0", False), ("3.17.2", "==3.17.*", True),
    ("3.18.0", "==3.17.*", False), ("1.13.0", ">=1.13,<2", True), ("2.0.1", ">=1.13,<2", False),
    ("3.10.0", ">=3.9,<4", True),
])
def test_version_specifiers(installed, spec, ok):
    assert _satisfies(installed, spec) is ok


def test_this_environment_meets_the_requirements():
    # The suite runs in the environment run.sh selected; run.sh would otherwise have built .venv.
    assert unmet_requirements(PROJECT_DIR / "requirements.txt") == []


def test_unmet_requirement_is_reported_by_name(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nnumpy>=1\nno-such-package-xyz==1.0\nmlflow==0.0.1\n")
    result = subprocess.run([sys.executable, "-m", "common.requirements_check", str(requirements)],
                            cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "no-such-package-xyz: not installed"
    assert lines[1].startswith("mlflow: ") and lines[1].endswith("need ==0.0.1")


def test_whole_number_accepts_mlflow_float_spelling():
    assert whole_number("300") == 300 and whole_number("300.0") == 300
    with pytest.raises(argparse.ArgumentTypeError, match="not a whole number"):
        whole_number("2.5")
    with pytest.raises(argparse.ArgumentTypeError, match="not a number"):
        whole_number("abc")

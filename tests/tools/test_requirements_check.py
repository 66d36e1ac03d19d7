"""The pinned-environment check run.sh makes before every run."""
from pathlib import Path
import subprocess
import sys

import pytest

from tools.requirements_check import unmet_requirements

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _unmet(tmp_path, text):
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return unmet_requirements(path)


def test_specifiers_follow_pep_440(tmp_path):
    import numpy

    version = numpy.__version__
    major, minor = (int(part) for part in version.split(".")[:2])
    assert _unmet(tmp_path, f"numpy=={version}\nnumpy>={major}.{minor},<{major + 1}\nnumpy=={major}.*\n") == []
    # ``~=`` is compatible release (PEP 440): ~=X.Y means >=X.Y, ==X.*; the hand-written check took it as >=.
    assert _unmet(tmp_path, f"numpy~={major - 1}.0\n") == [f"numpy: {version} installed, need ~={major - 1}.0"]
    assert _unmet(tmp_path, f"numpy~={major}.{minor}\n") == []
    assert _unmet(tmp_path, f"numpy!={version}\n") == [f"numpy: {version} installed, need !={version}"]
    # Environment markers: a requirement for another platform does not apply here.
    assert _unmet(tmp_path, 'no-such-package-xyz==1.0; sys_platform == "nonexistent"\n') == []


def test_this_environment_meets_the_requirements():
    # The suite runs in the environment run.sh selected; run.sh would otherwise have built .venv.
    assert unmet_requirements(PROJECT_DIR / "requirements.txt") == []


def test_unmet_requirement_is_reported_by_name(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nnumpy>=1\nno-such-package-xyz==1.0\nmlflow==0.0.1\n")
    result = subprocess.run([sys.executable, "-m", "tools.requirements_check", str(requirements)],
                            cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "no-such-package-xyz: not installed"
    assert lines[1].startswith("mlflow: ") and lines[1].endswith("need ==0.0.1")


def test_included_files_are_checked_relative_to_the_including_file(tmp_path):
    import numpy

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "common.txt").write_text("no-such-package-xyz==1.0  # comment\n")
    (tmp_path / "requirements.txt").write_text(f"-r sub/common.txt\n--requirement=sub/more.txt\n"
                                               f"numpy=={numpy.__version__}\n")
    (tmp_path / "sub" / "more.txt").write_text("--no-deps\nmlflow==0.0.1\n")
    assert unmet_requirements(tmp_path / "requirements.txt")[0] == "no-such-package-xyz: not installed"
    assert unmet_requirements(tmp_path / "requirements.txt")[1].startswith("mlflow: ")
    assert len(unmet_requirements(tmp_path / "requirements.txt")) == 2
    (tmp_path / "sub" / "more.txt").write_text("-r ../requirements.txt\n")
    with pytest.raises(ValueError, match="includes itself"):
        unmet_requirements(tmp_path / "requirements.txt")
    (tmp_path / "requirements.txt").write_text("-r absent.txt\n")
    with pytest.raises(FileNotFoundError, match="absent.txt"):
        unmet_requirements(tmp_path / "requirements.txt")


def test_an_extra_needs_the_packages_it_adds(tmp_path):
    # tensorflow-cpu declares the extra and-cuda (nvidia-* CUDA packages), absent from this CPU environment
    from importlib import metadata

    try:
        version = metadata.version("tensorflow-cpu")
    except metadata.PackageNotFoundError:
        pytest.skip("TensorFlow's CPU build is not installed here")
    problems = _unmet(tmp_path, f"tensorflow-cpu[and-cuda]=={version}\n")
    assert "nvidia-cudnn-cu12: not installed" in problems
    assert all(p.startswith("nvidia-") for p in problems)
    assert _unmet(tmp_path, f"tensorflow-cpu=={version}\n") == []

"""Shared pytest fixtures."""
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only real data beside the checkout (``../shared``); tests using it skip when absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not path.is_dir():
        pytest.skip(f"shared data folder not found: {path}")
    return path


@pytest.fixture(scope="session")
def exported_detector(shared_dir, tmp_path_factory):
    """A briefly trained fruit_nuts detector, converted as the convert step does (tests/exported_detector.py)."""
    from tests.exported_detector import train_and_export

    return train_and_export(shared_dir, tmp_path_factory.mktemp("exported"))

"""Shared fixtures: where the real data lives (CI sets DIGITCORE_DATA to ../shared/data)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding the real MNIST_SAMPLE and MNIST; skips when this machine has none."""
    value = os.environ.get("DIGITCORE_DATA", "")
    if not value or value in ("offline", "embedded"):  # the data shipped in the package, not a folder
        pytest.skip("real data not configured: set DIGITCORE_DATA to the shared data folder")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"DIGITCORE_DATA={value} is not a folder")
    return path

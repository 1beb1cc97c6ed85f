"""Shared for face tests: a few real face photos and the Hamilton clip, and one case analysed once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

FACES = "faces/images"
HAMILTON = "video/hamilton"


@pytest.fixture(scope="session")
def faces_dir(shared_data: Path) -> Path:
    return shared_data / FACES


@pytest.fixture(scope="session")
def hamilton(shared_data: Path) -> Path:
    return shared_data / HAMILTON

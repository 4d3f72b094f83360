"""Shared fixtures: the fixture fleet (tests/fixtures/fleet) previewed once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from review import engine
from tests import fixture_fleet


@pytest.fixture(scope="session")
def fleet() -> dict[str, engine.PreviewResult]:
    """Every fixture stack, previewed under mocks in one run (hubs first)."""
    return fixture_fleet.preview()


@pytest.fixture
def stacks_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture stack files and project file, for tests that mutate config."""
    for path in fixture_fleet.STACKS_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path

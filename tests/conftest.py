"""Shared fixtures: the example fleet previewed once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from review import engine
from review.preview import preview_fleet
from review.stacks import project_root, stack_names


@pytest.fixture(scope="session")
def fleet() -> dict[str, engine.PreviewResult]:
    """Every example stack, previewed under mocks in one run (hubs first)."""
    return {r.stack: r for r in preview_fleet(stack_names())}


@pytest.fixture
def stacks_dir(tmp_path: Path) -> Path:
    """A writable copy of the example stack files, for tests that mutate config."""
    for path in project_root().glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path

"""The fleet the tests assert on: stack files under tests/fixtures/fleet, kept apart from the
example `Pulumi.<stack>.yaml` files at the project root, which users edit freely."""

from __future__ import annotations

from pathlib import Path

from review import engine, stacks
from review.fleet_review import preview_fleet

STACKS_DIR = Path(__file__).resolve().parent / "fixtures" / "fleet"


def load(name: str) -> stacks.StackConfig:
    """A fixture stack, read and validated as `python -m review` reads a stack file."""
    return stacks.load(name, STACKS_DIR)


def names() -> list[str]:
    return stacks.stack_names(STACKS_DIR)


def preview() -> dict[str, engine.PreviewResult]:
    """Every fixture stack, previewed under mocks in one run (hubs first), by name."""
    return {r.stack: r for r in preview_fleet(names(), stacks_dir=STACKS_DIR)}

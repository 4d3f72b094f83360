"""The fleet the tests assert on: stack files under tests/fixtures/fleet, kept apart from the
example `Pulumi.<stack>.yaml` files at the project root, which users edit freely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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


def edge_hubs() -> dict[str, str]:
    """Each fixture edge -> the hub stack it ships to."""
    return {name: str(config.hub) for name in names() if not (config := load(name)).is_hub}


def set_config(stacks_dir: Path, stack: str, **config: Any) -> None:
    """Set `obsfleet:<key>` values in the copy of a fixture stack file under `stacks_dir`."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].update({f"obsfleet:{key}": value for key, value in config.items()})
    path.write_text(yaml.safe_dump(document))


def by_name(result: engine.PreviewResult) -> dict[str, dict[str, Any]]:
    """A preview's resources by their logical name."""
    return {r["urn"].rsplit("::", 1)[1]: r for r in result.resources}

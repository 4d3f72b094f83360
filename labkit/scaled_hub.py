"""A hub stack with N synthetic edges (the example hub's config, its `edges` replaced) and the
certificate requests those edges would export, for scale tests and the hub benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml

from components.edge import ONBOARDING, waiting_message
from components.identity import REQUEST_OUTPUT
from components.pki import EdgeIdentity, EdgeIdentityArgs
from components.settings import HubSettings
from review import engine, stacks
from review.fleet_review import References

EDGE_REGIONS = ("eu-west-1", "eu-north-1", "eu-central-1")
SERIES_PER_EDGE = 50_000


def scaled_hub(
    edges: int, base: str = "hub", series: int = SERIES_PER_EDGE, root: Optional[Path] = None
) -> stacks.StackConfig:
    """The `base` hub stack's config (in `root`, default the project) with `edges` synthetic edges
    (`edge-0001`, ...)."""
    root = root or stacks.project_root()
    document = yaml.safe_load((root / f"Pulumi.{base}.yaml").read_text())
    values: dict[str, Any] = {**stacks.project_config(root), **document["config"]}
    values["obsfleet:edges"] = [
        {"name": f"edge-{i:04d}", "region": EDGE_REGIONS[i % len(EDGE_REGIONS)], "seriesEstimate": series}
        for i in range(1, edges + 1)
    ]
    name = f"{base}-{edges}"
    return stacks.from_values(name, root / f"Pulumi.{name}.yaml", values)


def edge_requests(stack: stacks.StackConfig) -> References:
    """What each edge of hub `stack` exports after its first run (its identity, named as the edge
    program names it, so its request is the one that edge would make): the synthetic edges have no
    stack files to preview."""
    settings = stack.settings
    assert isinstance(settings, HubSettings)

    def program() -> None:
        for edge in settings.edges:
            identity = EdgeIdentity(f"{edge.name}-identity", EdgeIdentityArgs(settings.regime, edge.name))
            pulumi.export(edge.name, identity.certificate_request)

    made = engine.run_program(program, stack=f"{stack.name}-edges").outputs
    return {
        edge.stack_name: (
            {"cluster": edge.name, "regime": settings.regime.value, REQUEST_OUTPUT: made[edge.name],
             ONBOARDING: waiting_message(edge.name, stack.name)},
            frozenset(),
        )
        for edge in settings.edges
    }

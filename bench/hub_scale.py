"""Hub scale benchmark (not a test): a hub with N edges previewed offline, timed and counted.

The hub is the example `hub` stack (Pulumi.hub.yaml) with its `edges` replaced by N synthetic
edges in its boundary; it runs through review.engine exactly like `python -m review preview`
(the real __main__.py under the SDK mocks, real PEMs for every certificate), its StackReferences
answered with each edge's certificate request (`edge_requests`, made before the clock starts).
Prints wall time, resources (custom and component) and the metrics tier it chose.

    venv/bin/python bench/hub_scale.py [--edges 500]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402

from components.edge import ONBOARDING, waiting_message  # noqa: E402
from components.identity import REQUEST_OUTPUT  # noqa: E402
from components.pki import EdgeIdentity, EdgeIdentityArgs  # noqa: E402
from components.settings import HubSettings  # noqa: E402
from review import engine, stacks  # noqa: E402

References = dict[str, tuple[dict[str, Any], frozenset[str]]]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=500)
    args = parser.parse_args()
    stack = scaled_hub(args.edges)
    assert isinstance(stack.settings, HubSettings)
    references = edge_requests(stack)
    started = time.perf_counter()
    result = engine.preview(stack, references)
    seconds = time.perf_counter() - started
    custom = sum(1 for r in result.resources if r.get("custom"))
    components = len(result.resources) - custom
    print(json.dumps({
        "edges": args.edges,
        "tier": stack.settings.tier.value,
        "seconds": round(seconds, 2),
        "resources": custom,
        "components": components,
        "registrations": len(result.resources),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.settings import HubSettings  # noqa: E402
from labkit.scaled_hub import edge_requests, scaled_hub  # noqa: E402
from review import engine  # noqa: E402


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

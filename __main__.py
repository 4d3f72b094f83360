"""obsfleet: one hub per jurisdiction, one edge stack per cluster (see README.md)."""

from typing import Any

import pulumi

from components.fleet import deploy
from components.settings import load

settings = load()


async def main() -> dict[str, Any]:
    """An edge reads its hub's answer before declaring what depends on it: the entrypoint awaits."""
    return await deploy(settings, pulumi.get_stack())


pulumi.run(main)

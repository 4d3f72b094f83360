"""Per edge: what each metrics agent would be sized at, the one it runs and the other, so the
report shows what switching `obsfleet:agent` saves (components/edge_sizing.py, vmagent_sizing.py)."""

from __future__ import annotations

from typing import Any, Optional

from components import edge_sizing, vmagent_sizing
from components.settings import Agent, ConfigError, EdgeSettings


def _resources(resources: edge_sizing.Resources, volume_gib: int) -> dict[str, int]:
    return {
        "cpuMillicores": resources.cpu_request_millicores,
        "memoryRequestMiB": resources.memory_request_mib,
        "memoryLimitMiB": resources.memory_limit_mib,
        "volumeGiB": volume_gib,
    }


def engines(settings: EdgeSettings) -> Optional[dict[str, Any]]:
    """`{"runs": agent, "prometheus": {...}, "vmagent": {...}}`; None when the edge's queue
    overrides are invalid (its program fails and the report shows that error instead)."""
    try:
        prometheus = edge_sizing.for_settings(settings)
    except ConfigError:
        return None
    vmagent = vmagent_sizing.for_settings(settings)
    return {
        "runs": settings.agent.value,
        Agent.PROMETHEUS.value: _resources(prometheus.resources, prometheus.wal_volume_gib),
        Agent.VMAGENT.value: _resources(vmagent.resources, vmagent.volume_gib),
    }


def markdown_rows(edges: list[dict[str, Any]]) -> tuple[tuple[str, ...], list[list[str]]]:
    """Header and rows of the report's table: per edge, both agents and the memory switching saves."""
    header = ("edge", "runs", "Prometheus agent: CPU / memory request / limit / WAL",
              "vmagent: CPU / memory request / limit / buffer", "memory request if switched")

    def cell(r: dict[str, int]) -> str:
        return f"{r['cpuMillicores']}m / {r['memoryRequestMiB']} / {r['memoryLimitMiB']} MiB / {r['volumeGiB']} GiB"

    rows = []
    for edge in edges:
        sized = edge["agents"]
        other = Agent.VMAGENT.value if sized["runs"] == Agent.PROMETHEUS.value else Agent.PROMETHEUS.value
        now, then = sized[sized["runs"]]["memoryRequestMiB"], sized[other]["memoryRequestMiB"]
        rows.append([f"`{edge['edge']}`", sized["runs"], cell(sized[Agent.PROMETHEUS.value]), cell(sized[Agent.VMAGENT.value]),
                     f"{other}: {then} MiB ({then / now:.2f}x)"])
    return header, rows

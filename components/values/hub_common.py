"""What the hub's charts share: in-cluster names and how values fragments merge.

Every hub release that others talk to sets `fullnameOverride`, so the in-cluster names one chart
uses to reach another (Grafana -> Prometheus, Mimir's ruler -> Alertmanager, the front door ->
every receiver) are fixed here, independent of the Helm release names
Pulumi generates.

Edges reach none of these releases directly: the hub's mTLS front door (components/front_door.py)
terminates every ingest connection and forwards only the write paths to the backends' plain
in-cluster listeners.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

from components.hub_availability import MAX_UNAVAILABLE, Availability, Component, component_labels

PROMETHEUS_STACK = "obsfleet"
MIMIR = "mimir"
TEMPO = "tempo"
LOKI = "loki"
EXTERNAL_DNS = "external-dns"


def service_url(name: str, namespace: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://{name}.{namespace}.svc.cluster.local:{port}"


def retention_period(days: int, unit: Literal["h", "d"] = "h") -> str:
    """The retention setting (whole days) as a duration: in hours (`720h`) for Tempo, Loki and
    Mimir (Go durations have no day unit), in days (`30d`) for Prometheus' retention flag."""
    return f"{days}d" if unit == "d" else f"{days * 24}h"


def tenant_list(tenants: Sequence[str]) -> str:
    """A multi-tenant query's tenant header: `a|b|c` (Mimir, Tempo and Loki federation)."""
    return "|".join(tenants)


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge values fragments (later wins on scalars); fragments never set the same leaf twice."""
    result: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
                result[key] = merge(result[key], value)
            else:
                result[key] = value
    return result


def placed(availability: Availability, component: Component, *, budget_switch: bool = False) -> dict[str, Any]:
    """Replicas, pod label, spread and disruption budget of `component` (components/hub_availability.py)
    under the key names most charts share; `budget_switch`: the chart's budget has an `enabled` flag."""
    placement = availability.placement(component)
    budget: dict[str, Any] = {"maxUnavailable": MAX_UNAVAILABLE} if placement.disruption_budget else {}
    if budget_switch:
        budget = {"enabled": placement.disruption_budget, **budget}
    return {
        "replicas": placement.replicas,
        "podLabels": component_labels(component),
        "topologySpreadConstraints": availability.spread(component),
        "podDisruptionBudget": budget,
    }

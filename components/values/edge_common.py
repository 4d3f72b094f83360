"""What the edge's metrics and traces/logs paths share: identity labels and the tenant header."""

from __future__ import annotations

from components.settings import EdgeSettings
from components.values.common import TENANT_HEADER


def external_labels(settings: EdgeSettings) -> dict[str, str]:
    """Labels on every series the edge sends: which cluster, where, under which regime."""
    return {"cluster": settings.cluster, "region": settings.region, "regime": settings.regime.value}


def tenant_headers(settings: EdgeSettings) -> dict[str, str]:
    """One tenant per edge cluster (docs/design.md), sent on every request to the hub."""
    return {TENANT_HEADER: settings.cluster}

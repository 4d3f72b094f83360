"""Deletion-capability matrix of a hub (GDPR Art. 17, right to erasure).

For each signal the hub stores: how one cluster's (tenant's) or one data subject's data can be
erased before it expires, whether the hub as declared has that mechanism switched on (read from
the Helm values it declares), and the retention that bounds the data's life in any case.

Facts per backend (checked against the upstream docs and code):
- Prometheus: `POST /api/v1/admin/tsdb/delete_series?match[]=...` then `clean_tombstones`; the TSDB
  admin API exists only with `--web.enable-admin-api` (kube-prometheus-stack:
  `prometheus.prometheusSpec.enableAdminAPI`, default false).
- Mimir: `POST /compactor/delete_tenant` with `X-Scope-OrgID` deletes a whole tenant; Mimir has no
  per-series deletion, so a subject's samples inside a tenant go only by retention.
- Loki: `POST /loki/api/v1/delete?query=<selector + line filter>&start=&end=` per tenant, served by
  the compactor when `compactor.retention_enabled` is true and `limits_config.deletion_mode` is
  `filter-and-delete` (its default; `filter-only` hides lines without erasing them).
- Tempo: no delete API; traces leave only when the compactor's block retention expires them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Optional

from components.charts import KUBE_PROMETHEUS_STACK, LOKI, MIMIR_DISTRIBUTED
from components.hub_plan import HubPlan
from components.settings import HubSettings
from policies.obsfleet_residency.api import dig

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class Capability:
    signal: str
    """metrics | logs | traces"""
    backend: str
    mechanism: str
    scope: str
    """What one request can erase: a tenant (cluster), a selector, or nothing."""
    status: str
    """enabled | disabled | retention-only"""
    evidence: str
    """Why the status: the Helm value read, or why there is nothing to enable."""
    retention_days: int
    """Upper bound on how long the data lives whatever happens (HubSettings.retention)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _values(resources: Iterable[Mapping[str, Any]], chart: str) -> Optional[Mapping[str, Any]]:
    """The values of the hub's Helm release of `chart`, or None when it declares none."""
    for record in resources:
        inputs = record.get("inputs") or {}
        if record.get("type") == RELEASE_TYPE and inputs.get("chart") == chart:
            values = inputs.get("values")
            return values if isinstance(values, Mapping) else {}
    return None


def _loki_setting(values: Mapping[str, Any], block: str, key: str) -> Any:
    # The chart renders loki.<block> and lets loki.structuredConfig.<block> override it.
    structured = dig(values, "loki", "structuredConfig", block, key)
    return structured if structured is not None else dig(values, "loki", block, key)


def _metrics(settings: HubSettings, resources: list[Mapping[str, Any]]) -> Capability:
    days = settings.retention.metrics
    if HubPlan.of(settings).mimir:
        declared = _values(resources, MIMIR_DISTRIBUTED.name) is not None
        return Capability(
            "metrics",
            "Mimir",
            "POST /compactor/delete_tenant with X-Scope-OrgID: <cluster>",
            "one whole tenant (cluster); no per-series or per-subject deletion, a subject's samples go by retention",
            "enabled" if declared else "disabled",
            "the compactor always serves tenant deletion" if declared else "no mimir-distributed release declared",
            days,
        )
    values = _values(resources, KUBE_PROMETHEUS_STACK.name)
    admin_api = values is not None and dig(values, "prometheus", "prometheusSpec", "enableAdminAPI") is True
    if values is None:
        evidence = "no kube-prometheus-stack release declared"
    elif admin_api:
        evidence = "prometheus.prometheusSpec.enableAdminAPI is true: Prometheus runs with --web.enable-admin-api"
    else:
        evidence = "prometheus.prometheusSpec.enableAdminAPI is not true: no --web.enable-admin-api, so no TSDB admin API"
    return Capability(
        "metrics",
        "Prometheus",
        'POST /api/v1/admin/tsdb/delete_series?match[]={cluster="<cluster>"} then /api/v1/admin/tsdb/clean_tombstones',
        "series matching a label selector (a cluster, or a subject's label)",
        "enabled" if admin_api else "disabled",
        evidence,
        days,
    )


def _logs(settings: HubSettings, resources: list[Mapping[str, Any]]) -> Capability:
    values = _values(resources, LOKI.name)
    if values is None:
        status, evidence = "disabled", "no loki release declared"
    else:
        retention = _loki_setting(values, "compactor", "retention_enabled") is True
        mode = _loki_setting(values, "limits_config", "deletion_mode") or "filter-and-delete"
        status = "enabled" if retention and mode == "filter-and-delete" else "disabled"
        evidence = f"compactor.retention_enabled={str(retention).lower()}, limits_config.deletion_mode={mode}"
    return Capability(
        "logs",
        "Loki",
        'POST /loki/api/v1/delete?query={cluster="<cluster>"} |= "<subject>"&start=&end= with X-Scope-OrgID',
        "streams of one tenant matching a selector and optional line filter",
        status,
        evidence,
        settings.retention.logs,
    )


def _traces(settings: HubSettings) -> Capability:
    return Capability(
        "traces",
        "Tempo",
        "none: Tempo has no delete API",
        "nothing before expiry",
        "retention-only",
        "blocks are deleted by the compactor after the block retention",
        settings.retention.traces,
    )


def capabilities(settings: HubSettings, resources: list[Mapping[str, Any]]) -> list[Capability]:
    """The hub's erasure capability per signal, from its settings and its declared resources."""
    return [_metrics(settings, resources), _logs(settings, resources), _traces(settings)]

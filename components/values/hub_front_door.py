"""What the hub's front door forwards where, and which backend pods it fences, per tier.

Backends listen on plain HTTP inside the cluster (their in-cluster Service names are fixed by
each release's `fullnameOverride`, components/values/hub_common.py). Pods are selected by the
`app.kubernetes.io/name` label each chart (or prometheus-operator) puts on all its pods.
"""

from __future__ import annotations

from components.front_door import Backend
from components.front_door_config import Route
from components.hub_plan import PROMETHEUS_WRITE_PATH, HubPlan
from components.values import hub_loki, hub_mimir, hub_prometheus, hub_tempo
from components.values.hub_common import LOKI, MIMIR, TEMPO

METRICS_PORT = 8443
TRACES_PORT = 8444
LOGS_PORT = 8445
PROMETHEUS_WRITE_PATHS = (PROMETHEUS_WRITE_PATH,)
TRACES_PATHS = ("/v1/traces",)
TRACES_MAX_BODY = "20M"
"""Tempo's OTLP/HTTP receiver limit (the collector receivers' default, 20 MiB)."""

GRAFANA_PODS = {"app.kubernetes.io/name": "grafana"}
PROMETHEUS_PODS = {"app.kubernetes.io/name": "prometheus"}
"""The hub Prometheus (prometheus-operator's label): receiver in one tier, scraper of every backend in both."""
MIMIR_PODS = {"app.kubernetes.io/name": MIMIR}
TEMPO_PODS = {"app.kubernetes.io/name": TEMPO}
LOKI_PODS = {"app.kubernetes.io/name": LOKI}
READERS = (GRAFANA_PODS, PROMETHEUS_PODS)
"""Hub components reading every backend: Grafana's queries, the hub Prometheus's scrapes."""


def routes(plan: HubPlan) -> tuple[Route, ...]:
    """One TLS listener per signal, forwarding its write paths to the plan's backend."""
    namespace = plan.settings.kubernetes.namespace

    def host(service: str, port: int) -> str:
        return f"{service}.{namespace}.svc.cluster.local:{port}"

    if plan.mimir:
        metrics = Route(
            "metrics", METRICS_PORT, hub_mimir.PUSH_PATHS,
            host(hub_mimir.DISTRIBUTOR_SERVICE, hub_mimir.HTTP_PORT), hub_mimir.MAX_PUSH_BODY,
        )
    else:
        metrics = Route(
            "metrics", METRICS_PORT, PROMETHEUS_WRITE_PATHS,
            host(hub_prometheus.prometheus_service(), hub_prometheus.WEB_PORT), hub_mimir.MAX_PUSH_BODY,
        )
    tempo = hub_tempo.OTLP_SERVICE[plan.tempo_chart]
    return (
        metrics,
        Route("traces", TRACES_PORT, TRACES_PATHS, host(tempo, hub_tempo.OTLP_HTTP_PORT), TRACES_MAX_BODY),
        Route("logs", LOGS_PORT, hub_loki.PUSH_PATHS, host(LOKI, hub_loki.HTTP_PORT), hub_loki.MAX_PUSH_BODY),
    )


def backends(plan: HubPlan) -> tuple[Backend, ...]:
    """Every receiver's pods, admitting only the front door, themselves and the hub's readers."""
    fenced = [
        Backend("prometheus", PROMETHEUS_PODS, (GRAFANA_PODS,)),
        Backend("tempo", TEMPO_PODS, READERS),
        Backend("loki", LOKI_PODS, READERS),
    ]
    if plan.mimir:
        fenced.append(Backend("mimir", MIMIR_PODS, READERS))
    return tuple(fenced)

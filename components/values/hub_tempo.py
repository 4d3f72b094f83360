"""Tempo values: traces per edge tenant, in the hardened bucket, for `retention.traces` days.

Prometheus tier: the single-binary `tempo` chart (Tempo 2: no Kafka, the WAL on a volume). Mimir
tier: `tempo-distributed`, whose Tempo 3 ingest path runs through Kafka: the hub's own replicated
Kafka (components/traces_kafka.py: brokers in three zones, replication factor 3, Tempo's topic
declared with its partitions and retention) unless `scale.tracesKafka` names an external one.
Tempo runs one block-builder and one live-store per partition, as it requires; the pods that
produce or consume (distributors, block-builders, live-stores) carry the label the brokers'
NetworkPolicy admits. Either way OTLP/HTTP is the only receiver, plain HTTP inside the cluster: the edges reach
it only through the hub's mTLS front door (components/front_door_config.py), which sets the
tenant from the client certificate, and a NetworkPolicy admits nobody else
(components/front_door.py).

The single chart writes `tempo.receivers` into tempo.yaml as it is and also reads the Jaeger
protocols from it unconditionally for its Service ports, so deleting the Jaeger receiver fails the
render and emptying it leaves `jaeger: {protocols: {}}`, which Tempo's receiver refuses at start.
So the chart gets its own tempo.yaml (`config`) whose receivers are exactly ours, and each default
protocol is deleted so the Service exposes none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from components.charts import TEMPO as TEMPO_CHART
from components.charts import TEMPO_DISTRIBUTED
from components.hub_availability import MAX_UNAVAILABLE, Availability, Component, component_labels
from components.hub_plan import HubPlan
from components.settings import HubSettings
from components.values import hub_traces_kafka
from components.values.hub_common import TEMPO, merge, retention_period, service_url
from components.values.storage_class import storage_class_at

OTLP_HTTP_PORT = 4318
DISTRIBUTOR_SERVICE = f"{TEMPO}-distributor"
QUERY_PORT = 3200
STORAGE_CLASS_KEY = {TEMPO_CHART: "persistence.storageClassName", TEMPO_DISTRIBUTED: "global.storageClass"}
"""tempo: the WAL volume (commented out in values.yaml, read by the StatefulSet). tempo-distributed:
the chart-wide class of every component that claims a volume."""
QUERY_SERVICE = {TEMPO_CHART: TEMPO, TEMPO_DISTRIBUTED: f"{TEMPO}-query-frontend"}
"""Each chart's Service for Grafana's queries."""
OTLP_SERVICE = {TEMPO_CHART: TEMPO, TEMPO_DISTRIBUTED: DISTRIBUTOR_SERVICE}
"""Each chart's Service taking OTLP/HTTP, where the front door forwards spans."""


def query_url(plan: HubPlan) -> str:
    """Tempo's query API for Grafana."""
    return service_url(QUERY_SERVICE[plan.tempo_chart], plan.settings.kubernetes.namespace, QUERY_PORT)


SINGLE_DELETED_RECEIVERS = (
    "tempo.receivers.jaeger.protocols.grpc",
    "tempo.receivers.jaeger.protocols.thrift_binary",
    "tempo.receivers.jaeger.protocols.thrift_compact",
    "tempo.receivers.jaeger.protocols.thrift_http",
    "tempo.receivers.otlp.protocols.grpc",
)
"""The tempo chart's default receiver protocols besides OTLP/HTTP: they would take spans under any
tenant header, bypassing the front door's tenant. Deleted one by one (Helm merges our receivers map into
them), so the chart's Service lists none of their ports; tempo.yaml never names them."""
OVERRIDES_FILE = "/conf/overrides.yaml"
"""The chart's per-tenant overrides file (its ConfigMap, mounted at /conf)."""


def deleted_defaults(plan: HubPlan) -> tuple[str, ...]:
    """Chart defaults `tempo_values` needs gone (`charts.release(delete=...)`). tempo-distributed
    enables no receiver by default."""
    return SINGLE_DELETED_RECEIVERS if plan.tempo_chart == TEMPO_CHART else ()


def _single_receivers() -> dict[str, Any]:
    return {"otlp": {"protocols": {"http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"}}}}


def single_config(settings: HubSettings) -> str:
    """The single chart's tempo.yaml (its `config`, run through `tpl`): our receivers verbatim, the
    storage the chart's values describe (the bucket fragment over the chart's WAL default)."""
    fixed = {
        "multitenancy_enabled": True,
        "stream_over_http_enabled": False,
        "usage_report": {"reporting_enabled": False},
        "server": {"http_listen_port": QUERY_PORT},
        "distributor": {"receivers": _single_receivers()},
        "compactor": {"compaction": {"block_retention": retention_period(settings.retention.traces)}},
        "overrides": {"defaults": {}, "per_tenant_override_config": OVERRIDES_FILE},
    }
    return yaml.safe_dump(fixed, sort_keys=False) + "storage:\n  {{- toYaml .Values.tempo.storage | nindent 2 }}\n"


def _single(settings: HubSettings) -> dict[str, Any]:
    return {
        "config": single_config(settings),
        "tempo": {
            # Read by the chart's Service ports only: tempo.yaml is `config`.
            "receivers": _single_receivers(),
        },
        # The WAL of spans not yet flushed to the bucket survives a restart.
        "persistence": {"enabled": True},
        "serviceMonitor": {"enabled": True},
    }


def _distributors(availability: Availability, extra_labels: Mapping[str, str]) -> dict[str, Any]:
    """The ingest path's copies (components/hub_availability.py). The chart runs the constraints
    through `tpl` (so they go in as YAML text) and keeps `maxUnavailable` beside its budget switch."""
    placement = availability.placement(Component.TEMPO)
    return {
        "replicas": placement.replicas,
        "podLabels": {**component_labels(Component.TEMPO), **extra_labels},
        "topologySpreadConstraints": yaml.safe_dump(availability.spread(Component.TEMPO), sort_keys=False),
        "podDisruptionBudget": {"enabled": placement.disruption_budget},
        "maxUnavailable": MAX_UNAVAILABLE,
    }


@dataclass(frozen=True)
class TraceIngest:
    """The Kafka the Mimir tier's spans go through."""

    address: str
    partitions: int
    own: bool
    """The hub's own Kafka, whose topic the hub declares (Tempo creates none); else `scale.tracesKafka`."""


def trace_ingest(plan: HubPlan) -> TraceIngest:
    external = plan.settings.scale.traces_kafka
    if external is not None:
        return TraceIngest(external.address, external.partitions, own=False)
    assert plan.traces_kafka is not None, "tempo-distributed without scale.tracesKafka runs beside the hub's own Kafka"
    address = hub_traces_kafka.bootstrap_address(plan.settings.kubernetes.namespace)
    return TraceIngest(address, plan.traces_kafka.partitions, own=True)


def _distributed(plan: HubPlan) -> dict[str, Any]:
    settings = plan.settings
    retention = {"compaction": {"compaction": {"block_retention": retention_period(settings.retention.traces)}}}
    ingest = trace_ingest(plan)
    # Producers and consumers of the hub's own Kafka carry the label its brokers admit.
    clients = hub_traces_kafka.CLIENT_LABELS if ingest.own else {}
    consumer_labels = {"podLabels": dict(clients)} if clients else {}
    kafka: dict[str, Any] = {"address": ingest.address, "auto_create_topic_default_partitions": ingest.partitions}
    if ingest.own:
        kafka.update(topic=hub_traces_kafka.TOPIC, auto_create_topic_enabled=False)
    return {
        "multitenancyEnabled": True,
        "ingest": {"kafka": kafka},
        "blockBuilder": {"replicas": ingest.partitions, **consumer_labels},
        "liveStore": {"replicas": ingest.partitions, **consumer_labels},
        "backendScheduler": {"config": {"provider": retention}},
        "traces": {"otlp": {"http": {"enabled": True}}},
        "distributor": _distributors(plan.availability, clients),
        "metaMonitoring": {"serviceMonitor": {"enabled": True}},
    }


def tempo_values(plan: HubPlan, storage: Mapping[str, Any]) -> dict[str, Any]:
    """Values for `plan.tempo_chart`; `storage` is the backend's fragment for that chart."""
    settings = plan.settings
    own = _distributed(plan) if plan.tempo_chart == TEMPO_DISTRIBUTED else _single(settings)
    claims = storage_class_at(settings.kubernetes.storage_class, STORAGE_CLASS_KEY[plan.tempo_chart])
    return merge({"fullnameOverride": TEMPO}, own, claims, storage)

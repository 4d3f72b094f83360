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
from components.charts import TEMPO_DISTRIBUTED, Chart
from components.hub_availability import MAX_UNAVAILABLE, Component, component_labels, placement, spread
from components.settings import HubSettings, Tier
from components.traces_kafka_plan import plan as traces_kafka_plan
from components.values import hub_traces_kafka
from components.values.hub_common import TEMPO, merge, retention_period, service_url
from components.values.storage_class import storage_class_at

OTLP_HTTP_PORT = 4318
DISTRIBUTOR_SERVICE = f"{TEMPO}-distributor"
QUERY_PORT = 3200
STORAGE_CLASS_KEY = {TEMPO_CHART: "persistence.storageClassName", TEMPO_DISTRIBUTED: "global.storageClass"}
"""tempo: the WAL volume (commented out in values.yaml, read by the StatefulSet). tempo-distributed:
the chart-wide class of every component that claims a volume."""


def tempo_chart(settings: HubSettings) -> Chart:
    return TEMPO_DISTRIBUTED if settings.tier is Tier.MIMIR else TEMPO_CHART


def query_url(settings: HubSettings) -> str:
    """Tempo's query API for Grafana (the query-frontend when distributed)."""
    name = f"{TEMPO}-query-frontend" if settings.tier is Tier.MIMIR else TEMPO
    return service_url(name, settings.kubernetes.namespace, QUERY_PORT)


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


def deleted_defaults(settings: HubSettings) -> tuple[str, ...]:
    """Chart defaults `tempo_values` needs gone (`charts.release(delete=...)`). tempo-distributed
    enables no receiver by default."""
    return () if settings.tier is Tier.MIMIR else SINGLE_DELETED_RECEIVERS


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


def _distributors(tier: Tier, extra_labels: Mapping[str, str]) -> dict[str, Any]:
    """The ingest path's copies (components/hub_availability.py). The chart runs the constraints
    through `tpl` (so they go in as YAML text) and keeps `maxUnavailable` beside its budget switch."""
    plan = placement(tier, Component.TEMPO)
    return {
        "replicas": plan.replicas,
        "podLabels": {**component_labels(Component.TEMPO), **extra_labels},
        "topologySpreadConstraints": yaml.safe_dump(spread(tier, Component.TEMPO), sort_keys=False),
        "podDisruptionBudget": {"enabled": plan.disruption_budget},
        "maxUnavailable": MAX_UNAVAILABLE,
    }


@dataclass(frozen=True)
class TraceIngest:
    """The Kafka the Mimir tier's spans go through."""

    address: str
    partitions: int
    own: bool
    """The hub's own Kafka, whose topic the hub declares (Tempo creates none); else `scale.tracesKafka`."""


def trace_ingest(settings: HubSettings) -> TraceIngest:
    external = settings.scale.traces_kafka
    if external is not None:
        return TraceIngest(external.address, external.partitions, own=False)
    plan = traces_kafka_plan(settings)
    assert plan is not None, "the Mimir tier without scale.tracesKafka runs its own traces Kafka"
    return TraceIngest(hub_traces_kafka.bootstrap_address(settings.kubernetes.namespace), plan.partitions, own=True)


def _distributed(settings: HubSettings) -> dict[str, Any]:
    retention = {"compaction": {"compaction": {"block_retention": retention_period(settings.retention.traces)}}}
    ingest = trace_ingest(settings)
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
        "distributor": _distributors(settings.tier, clients),
        "metaMonitoring": {"serviceMonitor": {"enabled": True}},
    }


def tempo_values(settings: HubSettings, storage: Mapping[str, Any]) -> dict[str, Any]:
    """Values for `tempo_chart(settings)`; `storage` is the backend's fragment for that chart."""
    own = _distributed(settings) if settings.tier is Tier.MIMIR else _single(settings)
    claims = storage_class_at(settings.kubernetes.storage_class, STORAGE_CLASS_KEY[tempo_chart(settings)])
    return merge({"fullnameOverride": TEMPO}, own, claims, storage)

"""The hub plan: what a hub runs, decided once from its settings.

The scale tier (`HubSettings.tier`) decides where the edges' metrics are stored and their fleet
rules evaluated, which Tempo chart runs, how many copies of each pod run and how they spread
(components/hub_availability.py), how each store is sized (components/hub_sizing.py) and how big
Loki's chunks cache is. This module alone turns the tier into those answers; the hub component,
the values modules, the rules and the ingest endpoints read the plan, never the tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from components import hub_sizing, traces_kafka_plan
from components.charts import TEMPO, TEMPO_DISTRIBUTED, Chart
from components.hub_availability import MIMIR_TIER, PROMETHEUS_TIER, Availability
from components.settings import HubSettings, Tier
from components.traces_kafka_plan import TracesKafkaPlan

MIMIR_PUSH_PATH = "/api/v1/push"
PROMETHEUS_WRITE_PATH = "/api/v1/write"
"""Prometheus' receiver and Mimir's distributor take remote write on different paths."""
LOKI_CHUNKS_CACHE_MB = 1024
"""Loki's chunks cache (memcached) in the Prometheus tier. POLICY, not measured: the chart's 8192
(a ~10 GiB memory request, so a pod that no small node can schedule) is kept for the scale tier;
the Prometheus tier (up to 100 edges) gets 1 GiB, the size of the chart's results cache. A miss
costs an object-store read, not data."""
SCALE_LOKI_CHUNKS_CACHE_MB = 8192


@dataclass(frozen=True)
class HubPlan:
    settings: HubSettings
    mimir: bool
    """Mimir stores the edges' metrics, one tenant per edge certificate, and its ruler evaluates
    the fleet rules; the hub Prometheus only watches the hub. Otherwise the hub Prometheus receives
    every edge's metrics into one TSDB without tenants and evaluates every rule."""
    remote_write_path: str
    """Where the metrics store takes remote write (Mimir's distributor, Prometheus' receiver)."""
    tempo_chart: Chart
    """tempo-distributed (Tempo 3, ingest through Kafka) beside Mimir; else the single binary."""
    traces_kafka: Optional[TracesKafkaPlan]
    """The traces' own Kafka, sized; None for the single binary or with `scale.tracesKafka` (external)."""
    receiver_sizing: Optional[hub_sizing.ReceiverSizing]
    """The hub Prometheus as the edges' receiver; None when it only watches the hub."""
    mimir_sizing: Optional[hub_sizing.MimirSizing]
    availability: Availability
    loki_chunks_cache_mb: int

    @classmethod
    def of(cls, settings: HubSettings) -> HubPlan:
        mimir = settings.tier is Tier.MIMIR
        load = hub_sizing.IngestLoad.of(settings.edges)
        return cls(
            settings=settings,
            mimir=mimir,
            remote_write_path=MIMIR_PUSH_PATH if mimir else PROMETHEUS_WRITE_PATH,
            tempo_chart=TEMPO_DISTRIBUTED if mimir else TEMPO,
            traces_kafka=traces_kafka_plan.size(settings) if mimir and settings.scale.traces_kafka is None else None,
            receiver_sizing=None if mimir else hub_sizing.receiver(load, settings.retention.metrics),
            mimir_sizing=hub_sizing.mimir(load) if mimir else None,
            availability=MIMIR_TIER if mimir else PROMETHEUS_TIER,
            loki_chunks_cache_mb=SCALE_LOKI_CHUNKS_CACHE_MB if mimir else LOKI_CHUNKS_CACHE_MB,
        )

"""How many of each hub pod run, how many a voluntary disruption may take, and how they spread.

One `Availability` per tier (`PROMETHEUS_TIER`, `MIMIR_TIER`); the hub plan
(components/hub_plan.py) picks the hub's, and the values modules (components/values/hub_*.py) and
the ingest front door read it from the plan. docs/availability.md turns it into the table of what
survives a pod, a node and a zone.

Rules:
- Every component that can run more than one copy without shared state does so in both tiers:
  Alertmanager (its peers gossip silences and notification log, so a cluster of two sends one
  notification per alert), Grafana (provisioned datasources and an admin password from a Secret:
  nothing to share but login sessions, which the Service pins to a client), and the ingest front
  door (stateless nginx).
- Stateful stores replicate in the scale tier only: Loki with replication factor = replicas = one
  per zone (every replica holds every stream, so any one zone may go), Mimir's ingesters and
  store-gateways in three zone-aware groups (anti-affine per zone), Tempo's distributors in two
  copies in front of the traces' own Kafka (three KRaft controllers and brokers in every zone,
  replication factor 3: components/traces_kafka_plan.py). The Prometheus tier runs one receiver, one Loki and one Tempo: those
  are its single points of failure (`Availability.single_points`), covered by the edges' WAL buffer.
- A PodDisruptionBudget of `maxUnavailable: 1` on every replicated component (all are stateful or
  on the ingest path): a drain takes one copy at a time. A single copy gets none: a budget could
  only block every drain (the edges buffer its restart instead).
- Topology spread, by pod label `COMPONENT_LABEL`: across nodes always and hard (two copies on one
  node survive nothing a single copy would not); across zones hard in the scale tier, which needs a
  cluster with at least three zones, soft in the Prometheus tier, which accepts any cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

COMPONENT_LABEL = "obsfleet.io/component"
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
MAX_UNAVAILABLE = 1
SCALE_ZONES = 3
"""Zones of the scale tier: Mimir's zone-aware groups and Loki's replicas, one per zone."""


class Component(str, Enum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    FRONT_DOOR = "front-door"
    """The ingest front door (nginx terminating the edges' mTLS)."""
    LOKI_GATEWAY = "loki-gateway"
    MIMIR_GATEWAY = "mimir-gateway"
    """The charts' gateways: Grafana's read path, and the push path behind the front door."""
    RECEIVER = "prometheus"
    """The Prometheus tier's receiver; the Mimir tier's meta-monitor."""
    LOKI = "loki"
    TEMPO = "tempo"
    """The single binary (Prometheus tier) or tempo-distributed's distributors (Mimir tier)."""
    MIMIR_DISTRIBUTOR = "mimir-distributor"
    """Replicas from the sizing model (components/hub_sizing.py, at least two)."""
    TRACES_KAFKA_CONTROLLER = "traces-kafka-controller"
    """The KRaft quorum of the traces' Kafka, one per zone."""
    TRACES_KAFKA_BROKER = "traces-kafka-broker"
    """Brokers in every zone, as many as components/traces_kafka_plan.py sizes."""


@dataclass(frozen=True)
class Placement:
    replicas: int

    @property
    def disruption_budget(self) -> bool:
        """Whether the component gets a PodDisruptionBudget (of `MAX_UNAVAILABLE`)."""
        return self.replicas > 1

    @property
    def min_available(self) -> int:
        """The same budget for charts that take `minAvailable`."""
        return self.replicas - MAX_UNAVAILABLE


@dataclass(frozen=True)
class Availability:
    """One tier's availability: copies per component, how zones bind the spread, and what stays single."""

    replicas: Mapping[Component, int]
    zone_spread_required: bool
    """Zones bind the spread hard (a cluster of at least three zones) or only as a preference."""
    single_points: Mapping[str, str]
    """What the tier cannot make highly available, and what covers the gap."""

    def placement(self, component: Component) -> Placement:
        return Placement(self.replicas[component])

    @property
    def front_door_replicas(self) -> int:
        """Replicas of the ingest front door (nginx Deployment)."""
        return self.placement(Component.FRONT_DOOR).replicas

    def spread(self, component: Component) -> list[dict[str, Any]]:
        """Kubernetes `topologySpreadConstraints` for the pods labelled `component_labels(component)`."""
        selector = {"matchLabels": component_labels(component)}
        zone = "DoNotSchedule" if self.zone_spread_required else "ScheduleAnyway"
        return [
            {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector},
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": zone, "labelSelector": selector},
        ]


def component_labels(component: Component) -> dict[str, str]:
    """The pod label the spread constraints select on."""
    return {COMPONENT_LABEL: component.value}


PROMETHEUS_TIER = Availability(
    replicas={
        Component.ALERTMANAGER: 2,
        Component.GRAFANA: 2,
        Component.FRONT_DOOR: 2,
        Component.LOKI_GATEWAY: 2,
        Component.RECEIVER: 1,
        Component.LOKI: 1,
        Component.TEMPO: 1,
    },
    zone_spread_required=False,
    single_points={
        Component.RECEIVER.value: (
            "one Prometheus receives every edge: two receivers would each hold part of the data "
            "(an edge writes to one endpoint) and Prometheus cannot deduplicate; while it restarts "
            "the edges buffer in their WAL. For a receiver that survives a zone, use the Mimir tier "
            "(`obsfleet:scale.tier: mimir`)"
        ),
        Component.LOKI.value: "one monolithic Loki (replication factor 1): logs pushed while it is down wait in the edge collectors' retry queue",
        Component.TEMPO.value: "one Tempo: spans pushed while it is down wait in the edge collectors' retry queue",
    },
)
MIMIR_TIER = Availability(
    replicas={
        Component.ALERTMANAGER: 2,
        Component.GRAFANA: 2,
        Component.FRONT_DOOR: SCALE_ZONES,
        Component.LOKI_GATEWAY: SCALE_ZONES,
        Component.MIMIR_GATEWAY: SCALE_ZONES,
        Component.RECEIVER: 2,
        Component.LOKI: SCALE_ZONES,
        Component.TEMPO: 2,
        Component.TRACES_KAFKA_CONTROLLER: SCALE_ZONES,
    },
    zone_spread_required=True,
    single_points={
        "kafka": (
            "the mimir-distributed chart runs one Kafka broker, Mimir's write path (the traces have "
            "a replicated Kafka of their own): while it restarts Mimir's distributors refuse writes "
            "and the edges' agents buffer in their WAL and replay (`bufferHours`)"
        ),
    },
)

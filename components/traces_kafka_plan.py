"""How big the Mimir tier's own traces Kafka is, from the hub's edges and `scale.tracesBytesPerSecond`:
partitions (= Tempo's block-builders and live-stores), brokers per zone and their volumes.

The model and why each step is as it is: docs/sizing.md "Hub: the traces' Kafka". Every constant
below says whether it is Tempo's published guidance or a model choice; none is measured here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.hub_availability import MIMIR_TIER, SCALE_ZONES, Component
from components.hub_sizing import GIB, KIB, Resources
from components.settings import HubSettings

ASSUMED_BYTES_PER_EDGE = 64 * KIB
"""Uncompressed OTLP span bytes/s one edge sends, when the hub is not told (model choice)."""
PARTITION_BYTES_PER_SECOND = 6_000_000
"""Per partition, i.e. per live-store: the low end of Tempo's sizing guide (6-10 MB/s a live-store)."""
MIN_PARTITIONS = 3
"""tempo-distributed's default partition count (model choice: one per zone's worth of consumers)."""
RETENTION_HOURS = 24
"""How long spans stay in Kafka: the block-builder or bucket outage lost nothing (model choice)."""
REPLICATION_FACTOR = SCALE_ZONES
"""A replica in each zone (rack-aware brokers)."""
MIN_IN_SYNC_REPLICAS = 2
"""acks=all writes survive one zone, and never land on a single copy (Tempo's Kafka guide's starting point)."""
CONTROLLERS = MIMIR_TIER.placement(Component.TRACES_KAFKA_CONTROLLER).replicas
DISK_HEADROOM = 1.5
"""Model choice, as the metrics store's memory headroom: rates above the estimate, segment roll."""
MAX_BROKER_DISK = 1024 * GIB
"""Model choice: a common largest volume; beyond it the zone gets another broker."""
MIN_BROKER_DISK_GIB = 10
CONTROLLER_DISK_GIB = 10
"""The KRaft metadata log: the cluster's metadata only (topics, partitions, offsets), small."""
RETENTION_SIZE_FRACTION = 0.85
"""A partition replica's size cap, as a share of the broker volume (as the receiver's `retentionSize`)."""
BROKER_RESOURCES = Resources(500, 2 * GIB)
BROKER_HEAP = "1g"
"""Model choices, not measured: half the pod's memory for the heap, the rest page cache, which
consumers read from."""
CONTROLLER_RESOURCES = Resources(250, 1 * GIB)
CONTROLLER_HEAP = "512m"


@dataclass(frozen=True)
class TracesKafkaPlan:
    bytes_per_second: int
    partitions: int
    brokers_per_zone: int
    broker_disk_gib: int
    retention_hours: int

    @property
    def brokers(self) -> int:
        return self.brokers_per_zone * SCALE_ZONES

    @property
    def replicas_per_broker(self) -> int:
        """Partition replicas a broker holds: each zone has one of every partition, spread evenly over its brokers."""
        return self.partitions // self.brokers_per_zone

    @property
    def retention_bytes(self) -> int:
        """`retention.bytes`: the cap on one partition replica, so the replicas a broker holds fit its volume."""
        return int(self.broker_disk_gib * GIB * RETENTION_SIZE_FRACTION / self.replicas_per_broker)


def traces_bytes_per_second(settings: HubSettings) -> int:
    given = settings.scale.traces_bytes_per_second
    return given if given is not None else len(settings.edges) * ASSUMED_BYTES_PER_EDGE


def size(settings: HubSettings) -> TracesKafkaPlan:
    """The hub's own traces Kafka for its edges (whether the hub runs one: `HubPlan.traces_kafka`)."""
    rate = traces_bytes_per_second(settings)
    per_zone = rate * RETENTION_HOURS * 3_600 * DISK_HEADROOM
    brokers_per_zone = max(1, math.ceil(per_zone / MAX_BROKER_DISK))
    # Whole partitions per broker, so every broker of a zone holds the same share.
    needed = max(MIN_PARTITIONS, math.ceil(rate / PARTITION_BYTES_PER_SECOND))
    partitions = brokers_per_zone * math.ceil(needed / brokers_per_zone)
    disk_gib = max(MIN_BROKER_DISK_GIB, math.ceil(per_zone / brokers_per_zone / GIB))
    return TracesKafkaPlan(rate, partitions, brokers_per_zone, disk_gib, RETENTION_HOURS)

"""How big the Mimir tier's own traces Kafka is, from the hub's edges and `scale.tracesBytesPerSecond`.

tempo-distributed (Tempo 3) writes every span to Kafka before anything else keeps it: distributors
produce with acks=all, block-builders turn the topic into blocks in the bucket and then commit
their offsets, live-stores serve the recent spans from it. The Kafka is therefore the trace
path's write-ahead log, and the hub runs one of the traces' own (components/traces_kafka.py)
unless `scale.tracesKafka` names an external one.

Shape (fixed, so that adding edges only grows it):
- three KRaft controllers, one per zone: a quorum that survives one zone;
- brokers in each of the scale tier's three zones, rack-aware, so each partition's three replicas
  sit in three zones; `min.insync.replicas` 2 keeps acks=all writes going with one zone gone and
  refuses them (the edges retry from their queues) rather than keep a single copy;
- partitions = block-builders = live-stores (Tempo runs one of each per partition).

Sizing, from the load the hub must assume:
- bytes/s: `scale.tracesBytesPerSecond`, else `ASSUMED_BYTES_PER_EDGE` per edge. That figure is a
  model choice, not a measurement here: about 5x the average of a cluster sending 100K traces of
  ~10 KB a day (~12 KB/s), for peaks. A hub whose edges send more must say so.
- partitions: one per `PARTITION_BYTES_PER_SECOND`, at least `MIN_PARTITIONS`, rounded up to a
  multiple of the brokers per zone (each broker holds the same share). 6 MB/s is the lower end of
  what Tempo's sizing guide gives one live-store (6-10 MB/s); not measured here.
- retention: `RETENTION_HOURS` of spans stay in Kafka after they arrive, so block-builders (or the
  bucket) may be down that long without losing a span; a model choice: a day covers an outage
  noticed overnight. Every zone holds one replica of every partition, so each zone keeps
  bytes/s x retention.
- brokers per zone: that zone's bytes x `DISK_HEADROOM`, at most `MAX_BROKER_DISK` per broker;
  each broker's volume is its share x `DISK_HEADROOM` (at least `MIN_BROKER_DISK_GIB`), and the
  topic's `retention.bytes` caps each partition replica at `RETENTION_SIZE_FRACTION` of the volume
  divided among the replicas a broker holds, so a load above the estimate drops the oldest spans
  instead of filling the disk (a full disk stops the broker).
- memory and CPU: fixed model choices (not measured): a 1 GiB heap per broker in a 2 GiB pod (the
  rest is page cache, from which consumers read), 512 MiB for each controller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from components.hub_availability import SCALE_ZONES, Component, placement
from components.hub_sizing import GIB, KIB, Resources
from components.settings import HubSettings, Tier

ASSUMED_BYTES_PER_EDGE = 64 * KIB
"""Uncompressed OTLP span bytes/s one edge sends, when the hub is not told (model choice)."""
PARTITION_BYTES_PER_SECOND = 6_000_000
"""Per partition, i.e. per live-store (Tempo's sizing guide: 6-10 MB/s per live-store)."""
MIN_PARTITIONS = 3
RETENTION_HOURS = 24
REPLICATION_FACTOR = SCALE_ZONES
MIN_IN_SYNC_REPLICAS = 2
CONTROLLERS = placement(Tier.MIMIR, Component.TRACES_KAFKA_CONTROLLER).replicas
DISK_HEADROOM = 1.5
MAX_BROKER_DISK = 1024 * GIB
MIN_BROKER_DISK_GIB = 10
CONTROLLER_DISK_GIB = 10
"""The KRaft metadata log: the cluster's metadata only (topics, partitions, offsets), small."""
RETENTION_SIZE_FRACTION = 0.85
BROKER_RESOURCES = Resources(500, 2 * GIB)
BROKER_HEAP = "1g"
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


def plan(settings: HubSettings) -> Optional[TracesKafkaPlan]:
    """The hub's own traces Kafka; None where it runs none (Prometheus tier, or `scale.tracesKafka`)."""
    if settings.tier is not Tier.MIMIR or settings.scale.traces_kafka is not None:
        return None
    rate = traces_bytes_per_second(settings)
    per_zone = rate * RETENTION_HOURS * 3_600 * DISK_HEADROOM
    brokers_per_zone = max(1, math.ceil(per_zone / MAX_BROKER_DISK))
    # Whole partitions per broker, so every broker of a zone holds the same share.
    needed = max(MIN_PARTITIONS, math.ceil(rate / PARTITION_BYTES_PER_SECOND))
    partitions = brokers_per_zone * math.ceil(needed / brokers_per_zone)
    disk_gib = max(MIN_BROKER_DISK_GIB, math.ceil(per_zone / brokers_per_zone / GIB))
    return TracesKafkaPlan(rate, partitions, brokers_per_zone, disk_gib, RETENTION_HOURS)

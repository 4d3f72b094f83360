"""How big the hub's metrics store must be, from the edge list and our own measurements: the
Prometheus tier's receiver, or the Mimir tier's ingesters, distributors and per-tenant limits.

The model and why each step is as it is: docs/sizing.md "Hub: the metrics store". Every
constant below comes from docs/design.md "Sizing measurements" (section in brackets) or is a
Prometheus default, and says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from components.settings import EdgeRef

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# --- measured (docs/design.md "Sizing measurements") ---------------------------------------------
CPU_SECONDS_PER_SAMPLE = 10e-6
"""Receiver CPU per remote-written sample [3: 'about 10 us of receiver CPU per sample']."""
RSS_PER_SERIES = 4.2 * KIB
"""Receiver RSS per active series, upper end of 3.5-4.2 KiB [2]."""
BASE_RSS = 41 * MIB
"""An empty Prometheus process before the first sample [2]."""
TSDB_BYTES_PER_SAMPLE = 9.0
"""Receiver TSDB (WAL + head chunks) growth per sample before compaction [2: 18 MB / 2.0M]."""

# --- Prometheus defaults and documentation (not measured here) -------------------------------
OOO_BYTES_PER_SERIES = 32 * 16
"""`out_of_order_cap` (default 32) uncompressed samples of 16 B in the in-memory OOO head."""
BLOCK_BYTES_PER_SAMPLE = 2.0
"""Compacted block size per sample, upper end of the Prometheus docs' 1-2 B."""
HEAD_HOURS = 3
"""The head and WAL span 2-3 h before compaction truncates them."""

# --- model choices ---------------------------------------------------------------------------
ASSUMED_SCRAPE_INTERVAL_S = 15
RECOVERY_HEADROOM = 3.0
MEMORY_HEADROOM = 1.5
QUERY_MEMORY = 512 * MIB
"""Allowance for rule evaluation and dashboard queries on the receiver."""
DISK_HEADROOM = 1.2
RETENTION_SIZE_FRACTION = 0.85
MIN_CPU_MILLICORES = 250
MAX_SERIES_PER_INGESTER = 1_500_000
MIMIR_ZONES = 3
MAX_DISTRIBUTOR_CORES = 2.0
DISTRIBUTOR_MEMORY = 1 * GIB
"""Per distributor: request buffers only (no TSDB); not derived from a measurement."""
MIN_DISTRIBUTORS = 2
INGESTER_LOCAL_HOURS = 13
"""Mimir's default `blocks_storage.tsdb.retention_period`: blocks stay on the ingester's disk this long."""


@dataclass(frozen=True)
class IngestLoad:
    """What the edges send, as the hub must assume it."""

    series: int
    samples_per_second: float
    replay_hours: float
    """The longest outage an edge replays (its WAL buffer): the OOO window."""

    @classmethod
    def of(cls, edges: Sequence[EdgeRef]) -> "IngestLoad":
        series = sum(e.series_estimate for e in edges)
        return cls(series, series / ASSUMED_SCRAPE_INTERVAL_S, max(e.buffer_hours for e in edges))


@dataclass(frozen=True)
class Resources:
    cpu_millicores: int
    memory_bytes: int

    def helm(self) -> dict[str, dict[str, str]]:
        """A Kubernetes `resources` block: memory request = limit, no CPU limit (docs/sizing.md)."""
        memory = f"{math.ceil(self.memory_bytes / MIB)}Mi"
        return {
            "requests": {"cpu": f"{self.cpu_millicores}m", "memory": memory},
            "limits": {"memory": memory},
        }


@dataclass(frozen=True)
class ReceiverSizing:
    resources: Resources
    disk_bytes: int
    retention_size_bytes: int
    out_of_order_window: str

    @property
    def disk_gib(self) -> int:
        return math.ceil(self.disk_bytes / GIB)


@dataclass(frozen=True)
class MimirSizing:
    ingesters_per_zone: int
    ingester: Resources
    ingester_disk_gib: int
    distributors: int
    distributor: Resources
    out_of_order_window: str
    """The default (longest edge replay); each tenant also gets its own edge's."""

    @property
    def ingesters(self) -> int:
        return self.ingesters_per_zone * MIMIR_ZONES


def _cpu(samples_per_second: float) -> int:
    cores = samples_per_second * CPU_SECONDS_PER_SAMPLE * RECOVERY_HEADROOM
    return max(MIN_CPU_MILLICORES, math.ceil(cores * 1000))


def _head_memory(series: float) -> int:
    per_series = (RSS_PER_SERIES + OOO_BYTES_PER_SERIES) * MEMORY_HEADROOM
    return math.ceil(BASE_RSS + QUERY_MEMORY + series * per_series)


def receiver(load: IngestLoad, retention_days: int) -> ReceiverSizing:
    """One Prometheus receiving every edge (the Prometheus tier)."""
    blocks = retention_days * 86_400 * load.samples_per_second * BLOCK_BYTES_PER_SAMPLE
    head = HEAD_HOURS * 3_600 * load.samples_per_second * TSDB_BYTES_PER_SAMPLE
    replay = load.replay_hours * 3_600 * load.samples_per_second * TSDB_BYTES_PER_SAMPLE
    disk = math.ceil((blocks + head + replay) * DISK_HEADROOM / GIB) * GIB
    return ReceiverSizing(
        Resources(_cpu(load.samples_per_second), _head_memory(load.series)),
        disk,
        int(disk * RETENTION_SIZE_FRACTION),
        out_of_order_window(load.replay_hours),
    )


def mimir(load: IngestLoad) -> MimirSizing:
    """Ingesters and distributors of the Mimir tier."""
    per_zone = max(1, math.ceil(load.series / MAX_SERIES_PER_INGESTER))
    samples = load.samples_per_second / per_zone
    ingester = Resources(_cpu(samples), _head_memory(load.series / per_zone))
    local_hours = INGESTER_LOCAL_HOURS + load.replay_hours
    disk = math.ceil(local_hours * 3_600 * samples * TSDB_BYTES_PER_SAMPLE * DISK_HEADROOM / GIB)
    distributor_cores = load.samples_per_second * CPU_SECONDS_PER_SAMPLE * RECOVERY_HEADROOM
    distributors = max(MIN_DISTRIBUTORS, math.ceil(distributor_cores / MAX_DISTRIBUTOR_CORES))
    distributor = Resources(_cpu(load.samples_per_second / distributors), DISTRIBUTOR_MEMORY)
    return MimirSizing(
        per_zone, ingester, max(1, disk), distributors, distributor, out_of_order_window(load.replay_hours)
    )


@dataclass(frozen=True)
class TenantLimits:
    max_global_series: int
    ingestion_rate: int
    """Samples/s."""


def tenant_limits(edge: EdgeRef) -> TenantLimits:
    """Mimir limits for one edge's tenant."""
    return TenantLimits(
        math.ceil(edge.series_estimate * MEMORY_HEADROOM),
        math.ceil(edge.series_estimate / ASSUMED_SCRAPE_INTERVAL_S * RECOVERY_HEADROOM),
    )


def out_of_order_window(hours: float) -> str:
    """Prometheus/Mimir duration of an OOO window accepting a WAL replay `hours` long."""
    return f"{math.ceil(hours * 60)}m"

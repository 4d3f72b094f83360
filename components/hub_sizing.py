"""How big the hub's metrics receiver must be, from the edge list and our own measurements.

Every constant below comes from the measurements in docs/design.md "Sizing measurements"
(section in brackets) or is a Prometheus default, and says which: a remote-write-fed receiver
costs ~10 us CPU per sample and 3.5-4.2 KiB RSS per active series, so 10 edges of 50K series at
15 s are 33K samples/s and ~3.9 GiB below.

Load: the hub does not know each edge's scrape interval (an edge's `scrapeIntervalSeconds`
lives in the edge's own stack; the default is 30 s). It assumes `ASSUMED_SCRAPE_INTERVAL_S` =
15 s, which is 2x the default's sample rate: an edge scraping faster than 15 s must declare a
proportionally larger `seriesEstimate` in the hub's `edges` list.

Prometheus tier, one receiver:
- CPU request = samples/s x 10 us x `RECOVERY_HEADROOM`. After a hub outage of T every edge
  replays its WAL at once; with capacity h x the steady rate the backlog drains in T / (h - 1).
  h = 3 drains a 4 h outage (the edges' default buffer) in 2 h, well inside the edges' WAL. No CPU
  limit: throttling a receiver only makes the backlog longer.
- Memory request = limit (memory is not compressible; a receiver OOM-killed mid-replay starts
  over) = base + series x (4.2 KiB + OOO) x `MEMORY_HEADROOM` + query allowance. 4.2 KiB is the
  upper end of the measured receiver RSS per series [2]; it was measured over 10 min with no head
  compaction (every ~2 h, briefly spikes) and no series churn, hence the 1.5x headroom. OOO: a
  replaying series holds at most `out_of_order_cap` (Prometheus default 32) samples x 16 B in the
  in-memory OOO head before they are m-mapped, so <= 0.5 KiB per series.
- Disk = blocks (retention x samples x 2 B, the Prometheus docs' upper bound for compacted
  blocks: NOT measured here) + WAL and head (3 h x samples x 9 B: the measured TSDB growth of a
  receiver over its first 10 min, 18 MB for 2.0M samples [2]) + the OOO write-behind log of a
  full edge replay (buffer x samples x 9 B), x 1.2. `retentionSize` caps the TSDB at 85% of it.
- Out-of-order window = the longest WAL buffer among the hub's edges (`obsfleet:edges[].bufferHours`,
  default 4 h, to match each edge stack's own `bufferHours`): the receiver's head accepts
  in-order samples only down to ~1 h behind its max time [4], which other edges keep advancing,
  so an edge replaying a longer outage would see the older part rejected as out-of-bound without
  it. Mimir gets it per tenant. An edge whose stack buffers longer than its hub lists loses the
  part of a replay beyond the window, which `ObsfleetHubSamplesRejected` and
  `ObsfleetEdgeRemoteWriteFailing` report.
  The window (hours) stays far below the retention (>= 1 day): retention never deletes a range
  the window still accepts.

Mimir tier: ingesters are the same TSDB head fed by remote write, so the per-series and
per-sample costs above carry over (an assumption to benchmark, not a measurement). The chart
runs ingesters in 3 zones, each holding every series; the ingest path is Kafka-backed.
- ingesters per zone = series / `MAX_SERIES_PER_INGESTER` (1.5M: keeps one ingester's head
  under ~11 GiB by the model, a common node size); each sized like a receiver for its share.
- ingester disk: WAL and local blocks for 13 h (Mimir's default before they are only in the
  bucket) plus the OOO window, at the receiver's 9 B/sample.
- distributors: per-sample CPU like a receiver's decode/validate path (conservative: they keep no
  TSDB), at most `MAX_DISTRIBUTOR_CORES` each, at least 2 replicas for rolling updates.
- per-tenant limits: Mimir's defaults (150K series, 10K samples/s per tenant) would throttle any
  edge declared above them and every edge catching up; each edge gets its series x 1.5 (churn)
  and its samples/s x the recovery headroom.
Query-path components (querier, store-gateway, compactor) keep the chart's defaults: their load
depends on dashboards and rules, which this model does not know.
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
        """A Kubernetes `resources` block: memory request = limit, no CPU limit (see module doc)."""
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
